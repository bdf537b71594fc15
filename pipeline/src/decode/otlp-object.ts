/**
 * OTLP trace requests as plain objects in OTLP/JSON shape (lowerCamelCase, hex ids, int64 as
 * strings). Both the JSON body and the decoded protobuf become this shape; one function turns it
 * into SpanRecords, so both encodings give identical records.
 */
import { OtlpDecodeError } from './errors.js';

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number | string; message?: string };
}
export interface OtlpScopeSpans {
  scope?: { name?: string; version?: string };
  spans?: OtlpSpan[];
}
export interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: OtlpScopeSpans[];
}
export interface OtlpTraceRequest {
  resourceSpans?: OtlpResourceSpans[];
}

/** Nesting bound for arrayValue / kvlistValue (keeps rendering off the stack limit). */
const MAX_VALUE_DEPTH = 32;

const INT_RE = /^-?\d+$/;
const DOUBLE_RE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|-?Infinity)$/;
const BASE64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v === 'object' ? 'an object' : typeof v;
};

/** v as an array ([] when absent); OtlpDecodeError naming the place otherwise. */
export function expectArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v))
    throw new OtlpDecodeError(`${where}: expected an array, got ${describe(v)}.`);
  return v;
}

/** v as an object (undefined when absent); OtlpDecodeError naming the place otherwise. */
export function expectObject(v: unknown, where: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new OtlpDecodeError(`${where}: expected an object, got ${describe(v)}.`);
  return v;
}

/** Checks one AnyValue: each variant has the JSON type the OTLP/JSON mapping gives it. */
function checkAnyValue(v: unknown, where: string, depth: number): void {
  const value = expectObject(v, where);
  if (!value) return;
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`${where}: values nested deeper than ${MAX_VALUE_DEPTH} levels.`);
  const bad = (field: string, expected: string, got: unknown): OtlpDecodeError =>
    new OtlpDecodeError(`${where}.${field}: expected ${expected}, got ${describe(got)}.`);
  const { stringValue, boolValue, intValue, doubleValue, bytesValue, arrayValue, kvlistValue } =
    value;
  if (stringValue != null && typeof stringValue !== 'string')
    throw bad('stringValue', 'a string', stringValue);
  if (boolValue != null && typeof boolValue !== 'boolean')
    throw bad('boolValue', 'true or false', boolValue);
  if (
    intValue != null &&
    !(typeof intValue === 'number' && Number.isInteger(intValue)) &&
    !(typeof intValue === 'string' && INT_RE.test(intValue))
  )
    throw bad('intValue', 'an integer (a decimal string or a number)', intValue);
  if (
    doubleValue != null &&
    typeof doubleValue !== 'number' &&
    !(typeof doubleValue === 'string' && DOUBLE_RE.test(doubleValue))
  )
    throw bad('doubleValue', 'a number', doubleValue);
  if (bytesValue != null && !(typeof bytesValue === 'string' && BASE64_RE.test(bytesValue)))
    throw bad('bytesValue', 'base64 text', bytesValue);
  const array = expectObject(arrayValue, `${where}.arrayValue`);
  if (array)
    expectArray(array.values, `${where}.arrayValue.values`).forEach((x, i) =>
      checkAnyValue(x, `${where}.arrayValue.values[${i}]`, depth + 1),
    );
  const kvlist = expectObject(kvlistValue, `${where}.kvlistValue`);
  if (kvlist) checkAttributes(kvlist.values, `${where}.kvlistValue.values`, depth + 1);
}

/** Checks an attribute list (see assertTraceRequestShape). */
export function checkAttributes(v: unknown, where: string, depth = 0): void {
  expectArray(v, where).forEach((kv, i) => {
    const entry = expectObject(kv, `${where}[${i}]`);
    if (!entry) throw new OtlpDecodeError(`${where}[${i}]: expected an object, got null.`);
    if (typeof entry.key !== 'string')
      throw new OtlpDecodeError(
        `${where}[${i}].key: expected a string, got ${describe(entry.key)}.`,
      );
    checkAnyValue(entry.value, `${where}[${i}].value`, depth);
  });
}

/**
 * Checks the request's structure: arrays and objects where OTLP has them, and attribute values of the
 * JSON types the OTLP/JSON mapping allows (a conforming encoder cannot produce anything else, and the
 * Collector refuses such a body too). Ids, times and enums are checked per span, so one bad span
 * is refused alone. Throws OtlpDecodeError naming the place, e.g. `resourceSpans[0].scopeSpans: …`.
 */
export function assertTraceRequestShape(body: unknown): OtlpTraceRequest {
  if (!isObject(body))
    throw new OtlpDecodeError(
      `The body is not an OTLP ExportTraceServiceRequest: expected a JSON object with a resourceSpans array, got ${describe(body)}.`,
    );
  expectArray(body.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    const at = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw new OtlpDecodeError(`${at}: expected an object, got ${describe(rs)}.`);
    const resource = expectObject(rs.resource, `${at}.resource`);
    if (resource) checkAttributes(resource.attributes, `${at}.resource.attributes`);
    expectArray(rs.scopeSpans, `${at}.scopeSpans`).forEach((ss, j) => {
      const sat = `${at}.scopeSpans[${j}]`;
      if (!isObject(ss))
        throw new OtlpDecodeError(`${sat}: expected an object, got ${describe(ss)}.`);
      expectObject(ss.scope, `${sat}.scope`);
      expectArray(ss.spans, `${sat}.spans`).forEach((sp, k) => {
        const spat = `${sat}.spans[${k}]`;
        if (!isObject(sp))
          throw new OtlpDecodeError(`${spat}: expected an object, got ${describe(sp)}.`);
        checkAttributes(sp.attributes, `${spat}.attributes`);
        expectObject(sp.status, `${spat}.status`);
      });
    });
  });
  return body;
}
