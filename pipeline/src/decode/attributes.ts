/**
 * OTLP attribute values (AnyValue, in OTLP/JSON shape) rendered as the strings harness-meter stores.
 * Shared by traces, logs and metrics decoding.
 */
import type { OtlpKeyValue } from './otlp-object.js';

export type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const listOf = (container: unknown): unknown[] =>
  isRecord(container) && Array.isArray(container.values) ? container.values : [];

/** int64 as canonical decimal text, whether it came as a string (OTLP/JSON, protobuf) or a number. */
function intText(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v).toString();
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * An AnyValue as a plain JS value. Never throws: trace requests are checked before
 * (assertTraceRequestShape), log and metric bodies are not, and an odd value must not sink them.
 * Bytes become canonical base64, so OTLP/JSON and protobuf of the same bytes render the same.
 */
export function plainValue(v: unknown, depth = 0): Plain {
  if (!isRecord(v) || depth > 64) return null;
  if (v.stringValue != null)
    return typeof v.stringValue === 'string' ? v.stringValue : JSON.stringify(v.stringValue);
  if (v.boolValue != null) return v.boolValue === true || v.boolValue === 'true';
  if (v.intValue != null) {
    const text = intText(v.intValue);
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (v.doubleValue != null) return Number(v.doubleValue);
  if (v.arrayValue != null) return listOf(v.arrayValue).map((x) => plainValue(x, depth + 1));
  if (v.kvlistValue != null) {
    const out: Record<string, Plain> = {};
    for (const kv of listOf(v.kvlistValue))
      if (isRecord(kv) && typeof kv.key === 'string') out[kv.key] = plainValue(kv.value, depth + 1);
    return out;
  }
  if (v.bytesValue != null)
    return typeof v.bytesValue === 'string'
      ? Buffer.from(v.bytesValue, 'base64').toString('base64')
      : '';
  return null;
}

/**
 * An attribute value as a string: string as is, bool 'true'/'false', int as decimal, double as JS
 * renders the number, bytes as base64, arrays and kvlists as compact JSON of their plain values,
 * an empty value as ''.
 */
export function renderValue(v: unknown): string {
  const p = plainValue(v);
  if (p === null) return '';
  if (typeof p === 'string') return p;
  if (typeof p === 'number' || typeof p === 'boolean') return String(p);
  return JSON.stringify(p);
}

/** OTLP attributes as a map of strings (the last of repeated keys wins). */
export function attributeMap(kvs: OtlpKeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(kvs)) return out;
  for (const kv of kvs as unknown[]) {
    if (!isRecord(kv) || typeof kv.key !== 'string') continue;
    out[kv.key] = renderValue(kv.value);
  }
  return out;
}
