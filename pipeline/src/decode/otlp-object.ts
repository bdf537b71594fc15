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

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function expectArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${where}: expected an array, got ${typeof v}.`);
  return v;
}

/** Checks the request's structure (arrays and objects where OTLP has them); values are checked per span. */
export function assertTraceRequestShape(body: unknown): OtlpTraceRequest {
  return checkShape(body);
}

function checkShape(body: unknown): Record<string, unknown> {
  if (!isObject(body))
    throw new OtlpDecodeError(
      'The body is not an OTLP ExportTraceServiceRequest: expected a JSON object with a resourceSpans array.',
    );
  const rss = expectArray(body.resourceSpans, 'resourceSpans');
  rss.forEach((rs, i) => {
    if (!isObject(rs)) throw new OtlpDecodeError(`resourceSpans[${i}]: expected an object.`);
    if (rs.resource !== undefined && !isObject(rs.resource))
      throw new OtlpDecodeError(`resourceSpans[${i}].resource: expected an object.`);
    if (isObject(rs.resource))
      expectArray(rs.resource.attributes, `resourceSpans[${i}].resource.attributes`);
    expectArray(rs.scopeSpans, `resourceSpans[${i}].scopeSpans`).forEach((ss, j) => {
      if (!isObject(ss))
        throw new OtlpDecodeError(`resourceSpans[${i}].scopeSpans[${j}]: expected an object.`);
      expectArray(ss.spans, `resourceSpans[${i}].scopeSpans[${j}].spans`).forEach((sp, k) => {
        if (!isObject(sp))
          throw new OtlpDecodeError(
            `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]: expected an object.`,
          );
        expectArray(sp.attributes, `resourceSpans[${i}].scopeSpans[${j}].spans[${k}].attributes`);
      });
    });
  });
  return body;
}
