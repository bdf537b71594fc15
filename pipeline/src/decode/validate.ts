/**
 * Per-span checks at decode: what no span may carry into storage. A span that fails a check is
 * refused alone (counted in OTLP partial_success, with its reason); the rest of its request is kept.
 * Pure: no I/O, no environment (the limits arrive as options from config.ts).
 */
// The redaction module alone, not the SDK's entry point (which loads OpenTelemetry).
import { cutAt, redact, wellFormed } from '@harness-meter/instrumentation/redact';
import type { SpanRecord } from '../model.js';
import type { OtlpSpan } from './otlp-object.js';
import type { DecodeLimits } from './limits.js';

// Defined in limits.ts, which config.ts imports without this module's redaction.
export { DECODE_DEFAULTS, type DecodeLimits } from './limits.js';

/**
 * Largest token count (or byte count) one span may carry: ten times any context window sold today,
 * and small enough that count × the dearest price stays far inside Int64 nano-USD.
 */
export const MAX_TOKEN_COUNT = 1_000_000_000;

/** Span times must fall in [2000-01-01, 2100-01-01) UTC; ClickHouse's DateTime64(9) ends in 2262. */
export const MIN_TIME_NANOS = 946_684_800_000_000_000n;
export const MAX_TIME_NANOS = 4_102_444_800_000_000_000n;

/** Marks a span whose attributes were cut: `attributes=N,values=M` (dropped, shortened). */
export const ATTR_HM_TRUNCATED = 'harness_meter.truncated';

/** Why one span (or log event, or metric point) is refused; the request goes on. */
export class SpanRejectedError extends Error {
  readonly code = 'SPAN_REJECTED' as const;
  readonly retriable = false as const;
  constructor(message: string) {
    super(message);
    this.name = 'SpanRejectedError';
  }
}

/** Token counts and sizes: digits, or an integral double as JS renders it ('1200', '1200.0', '1.2e+3'). */
const COUNT_RE = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A count attribute as a number: '' (absent) is 0; anything else must be a non-negative integer of at
 * most MAX_TOKEN_COUNT, else the span is refused (a wrong count is never stored as 0).
 */
export function checkedCount(text: string, key: string): number {
  if (text === '') return 0;
  const n = Number(text);
  if (!COUNT_RE.test(text) || !Number.isInteger(n))
    throw new SpanRejectedError(
      `${key}=${JSON.stringify(text.slice(0, 40))} is not a count (a non-negative integer)`,
    );
  if (n > MAX_TOKEN_COUNT)
    throw new SpanRejectedError(
      `${key}=${JSON.stringify(text.slice(0, 40))} is above the bound of ${MAX_TOKEN_COUNT} per span`,
    );
  return n;
}

const iso = (nanos: bigint): string => {
  const ms = nanos / 1_000_000n;
  return ms >= -8_640_000_000_000_000n && ms <= 8_640_000_000_000_000n
    ? new Date(Number(ms)).toISOString()
    : `${nanos} ns`;
};

/** Refuses a time outside [MIN_TIME_NANOS, MAX_TIME_NANOS). */
export function checkTime(nanos: bigint, field: string): bigint {
  if (nanos < MIN_TIME_NANOS || nanos >= MAX_TIME_NANOS)
    throw new SpanRejectedError(
      `${field}=${nanos} (${iso(nanos)}) is outside the accepted window 2000-01-01..2100-01-01 UTC`,
    );
  return nanos;
}

/** Start and end of a span: both in the window, end not before start (a missing end is the start). */
export function checkSpanTimes(start: bigint, end: bigint, where: string): [bigint, bigint] {
  if (start === 0n) throw new SpanRejectedError(`${where}.startTimeUnixNano is missing`);
  checkTime(start, `${where}.startTimeUnixNano`);
  if (end === 0n) return [start, start];
  checkTime(end, `${where}.endTimeUnixNano`);
  if (end < start)
    throw new SpanRejectedError(`${where}.endTimeUnixNano is before startTimeUnixNano`);
  return [start, end];
}

/**
 * Replaces lone surrogates in every string of a decoded request (keys and values, at any depth),
 * in place, so no stored text is invalid UTF-8. Returns the same object.
 */
export function wellFormedDeep<T>(value: T, depth = 0): T {
  if (depth > 200 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') value[i] = wellFormed(v);
      else wellFormedDeep(v, depth + 1);
    }
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v === 'string') o[k] = wellFormed(v);
    else wellFormedDeep(v, depth + 1);
  }
  return value;
}

/** Values that cannot hold a secret (numbers, booleans, hex hashes and ids) skip the scan. */
const PLAIN_VALUE = /^(?:[0-9a-f]{0,128}|-?[0-9.eE+-]{0,40}|true|false)$/;

/**
 * Stored forms of recent short texts. Spans of one session repeat most of their values (session,
 * developer, repository, branch, model names), and redaction is a pure function of the text, so a
 * repeat costs one Map lookup. Plain values are kept too (a hit skips the PLAIN_VALUE test). Bounded:
 * cleared when full; only texts up to REDACTED_CACHE_TEXT_CHARS. The texts stay in this process's
 * memory only, as the request bodies do.
 */
const redactedCache = new Map<string, string>();
export const REDACTED_CACHE_ENTRIES = 16_384;
export const REDACTED_CACHE_TEXT_CHARS = 512;

/** A text redacted as stored (not cut); memoized for short texts. */
export function redactedText(text: string): string {
  if (text.length > REDACTED_CACHE_TEXT_CHARS)
    return PLAIN_VALUE.test(text) ? text : redact(text, Number.MAX_SAFE_INTEGER);
  let safe = redactedCache.get(text);
  if (safe === undefined) {
    safe = PLAIN_VALUE.test(text) ? text : redact(text, Number.MAX_SAFE_INTEGER);
    if (redactedCache.size >= REDACTED_CACHE_ENTRIES) redactedCache.clear();
    redactedCache.set(text, safe);
  }
  return safe;
}

/**
 * A text redacted as stored, as redactedText gives it, without the memo: for values seen once (ids,
 * hashes, call ids), which would only push the repeating ones out of it.
 */
export function redactedOnce(text: string): string {
  return PLAIN_VALUE.test(text) ? text : redact(text, Number.MAX_SAFE_INTEGER);
}

const EMPTY_TEXT = Object.freeze({ text: '', cut: false });

/** Text already in stored form (redactedText), cut to `maxChars`. */
export function cutText(safe: string, maxChars: number): { text: string; cut: boolean } {
  if (safe.length > maxChars) return { text: cutAt(safe, maxChars), cut: true };
  return safe === '' ? EMPTY_TEXT : { text: safe, cut: false };
}

/** Free text as stored: secrets masked (the SDK's rules), then cut to `maxChars`. */
export function storedText(text: string, maxChars: number): { text: string; cut: boolean } {
  return cutText(redactedText(text), maxChars);
}

/**
 * Attributes as stored: at most `attributeCountLimit` (first come, first kept), keys cut to 256
 * characters. Values arrive redacted and cut already (storedText, before derivation).
 */
export function limitAttributes(
  attrs: Record<string, string>,
  limits: DecodeLimits,
): { attributes: Record<string, string>; dropped: number } {
  // Usual case, no copy: within the count limit and no key to cut.
  let count = 0;
  let longKey = false;
  for (const k in attrs) {
    count++;
    if (k.length > 256) longKey = true;
  }
  if (count <= limits.attributeCountLimit && !longKey) return { attributes: attrs, dropped: 0 };
  const out: Record<string, string> = {};
  let kept = 0;
  let dropped = 0;
  for (const [k, v] of Object.entries(attrs)) {
    if (kept >= limits.attributeCountLimit) {
      dropped++;
      continue;
    }
    kept++;
    out[k.length > 256 ? cutAt(k, 256) : k] = v;
  }
  return { attributes: out, dropped };
}

/** A refused span as OTLP/JSON in one field order whatever its encoding, cut to 4,096 characters. */
export function spanSample(sp: OtlpSpan): string {
  const text = JSON.stringify({
    traceId: sp.traceId,
    spanId: sp.spanId,
    parentSpanId: sp.parentSpanId || undefined,
    name: sp.name,
    kind: sp.kind,
    startTimeUnixNano: sp.startTimeUnixNano,
    endTimeUnixNano: sp.endTimeUnixNano,
    attributes: sp.attributes,
    status: sp.status ? { code: sp.status.code, message: sp.status.message } : undefined,
  });
  return redact(text, 4096);
}

/** Attribute values already redacted (redactedText), cut to the limit in place. */
export function cutAttributes(
  attrs: Record<string, string>,
  limits: DecodeLimits,
): { attributes: Record<string, string>; cut: number } {
  const max = limits.attributeValueLengthLimit;
  let cut = 0;
  for (const k in attrs) {
    const v = attrs[k]!;
    if (v.length > max) {
      cut++;
      attrs[k] = cutAt(v, max);
    }
  }
  return { attributes: attrs, cut };
}

/**
 * Attribute values redacted and cut (before derivation, so derived fields are clean too). The map
 * (a fresh one from the decoder) is updated in place and returned: no copy and no object per value.
 */
export function cleanAttributes(
  attrs: Record<string, string>,
  limits: DecodeLimits,
): { attributes: Record<string, string>; cut: number } {
  const max = limits.attributeValueLengthLimit;
  let cut = 0;
  for (const k in attrs) {
    const v = attrs[k]!;
    const safe = redactedText(v);
    if (safe.length > max) {
      cut++;
      attrs[k] = cutAt(safe, max);
    } else if (safe !== v) attrs[k] = safe;
  }
  return { attributes: attrs, cut };
}

/**
 * A derived record with its stored attribute maps bounded (OTel attribute count limit) and the
 * span marked `harness_meter.truncated=attributes=N,values=M` when anything was cut. The record
 * (a fresh one from toSpanRecord) is updated in place and returned: no copy per span. Its attribute
 * maps are kept as they are when within the limits (the resource map may be shared by the spans
 * of one resource; nothing downstream changes a record's maps).
 */
export function boundRecord(
  record: SpanRecord,
  valuesCut: number,
  limits: DecodeLimits,
): SpanRecord {
  const span = limitAttributes(record.spanAttributes, limits);
  const resource = limitAttributes(record.resourceAttributes, limits);
  const dropped = span.dropped + resource.dropped;
  const cut = valuesCut;
  if (dropped > 0 || cut > 0)
    span.attributes[ATTR_HM_TRUNCATED] = `attributes=${dropped},values=${cut}`;
  record.spanAttributes = span.attributes;
  record.resourceAttributes = resource.attributes;
  return record;
}
