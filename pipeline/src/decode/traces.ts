import type { SpanRecord } from '../model.js';
import { DERIVED_COUNT, derivedValues, recordFromValues } from './span-record.js';
export { toSpanRecord, usdToNanos } from './span-record.js';
export type { RawSpanParts } from './span-record.js';
import { OtlpDecodeError } from './errors.js';
import { assertTraceRequestShape, type OtlpSpan, type OtlpTraceRequest } from './otlp-object.js';
import { otlpType, TRACE_REQUEST } from './proto.js';
import { attributeMap, isRecord, listOf } from './attributes.js';
import { readTraceRequest } from './trace-proto.js';
import {
  boundRecord,
  checkSpanTimes,
  cleanAttributes,
  cutAttributes,
  cutText,
  DECODE_DEFAULTS,
  spanSample,
  SpanRejectedError,
  storedText,
  wellFormedDeep,
  type DecodeLimits,
} from './validate.js';

export type OtlpEncoding = 'protobuf' | 'json';
export { attributeMap };

/** The spans of one export request, plus the spans that were refused (for OTLP partial_success). */
export interface DecodedTraces {
  spans: SpanRecord[];
  rejectedSpans: number;
  /**
   * The refused spans themselves (their OTLP/JSON, cut to 4,096 characters) with the reason, at
   * most MAX_REJECTED_SAMPLES per request: Kafka mode dead-letters each alone.
   */
  rejected?: { reason: string; sample: string }[];
  /** Reasons, for rejected spans and for values that were ignored (bounded). */
  errors: string[];
}

/** Bound on the reasons kept per request. */
export const MAX_DECODE_ERRORS = 20;
/** Bound on the refused spans kept (as samples) per request. */
export const MAX_REJECTED_SAMPLES = 100;

const SPAN_KIND_NAMES: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

// ---------- ids, times, enums ----------

const HEX_RE = /^[0-9a-f]+$/;
const ZERO_RE = /^0+$/;

/**
 * A span id as lowercase hex; `where` and `name` only make the message when the id is refused.
 * `lowerHex`: the value is lowercase hex already (made from bytes), so only its length is checked.
 */
function hexId(
  value: unknown,
  bytes: number,
  where: string,
  name: string,
  optional: boolean,
  lowerHex: boolean,
): string {
  if ((value === undefined || value === null || value === '') && optional) return '';
  if (typeof value !== 'string')
    throw new Error(
      `${where}.${name}: expected ${bytes * 2} hex characters, got ${value === undefined ? 'nothing' : typeof value}`,
    );
  const hex = lowerHex ? value : value.toLowerCase();
  if (hex.length !== bytes * 2 || (!lowerHex && !HEX_RE.test(hex)))
    throw new Error(
      `${where}.${name}: expected ${bytes * 2} hex characters, got ${JSON.stringify(value.slice(0, 40))}`,
    );
  if (ZERO_RE.test(hex)) {
    if (optional) return '';
    throw new Error(`${where}.${name}: an all-zero id is invalid`);
  }
  return hex;
}

/** A time: a bigint (protobuf fixed64), a non-negative integer, or its decimal text; absent is 0. */
function nanos(value: unknown, where: string, name: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  throw new Error(
    `${where}.${name}: expected an unsigned 64-bit integer (a decimal string), got ${JSON.stringify(value)}`,
  );
}

/**
 * An OTLP enum: a known number (0..max), or a known name; anything else (unknown, negative, huge)
 * is 0.
 */
function enumValue(value: unknown, names: Record<string, number>, max: number): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string'
        ? /^\d{1,3}$/.test(value)
          ? Number(value)
          : Object.hasOwn(names, value)
            ? names[value]
            : 0
        : 0;
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= max ? n : 0;
}

// ---------- requests ----------

/**
 * One span's fields as either encoding gives them, before any check: OTLP/JSON values as they are,
 * or what the protobuf reader read (ids as hex, times as bigint). Attributes are already rendered.
 */
export interface SpanFields {
  traceId: unknown;
  spanId: unknown;
  parentSpanId: unknown;
  name: unknown;
  kind: unknown;
  startTimeUnixNano: unknown;
  endTimeUnixNano: unknown;
  attributes: Record<string, string>;
  /** The attribute values are in stored form already (redacted, not yet cut): the reader did it. */
  attributesRedacted?: boolean;
  /** With attributesRedacted: the length of the longest value (none to cut when within the limit). */
  attributesLongest?: number;
  /** The name and status message are in stored form already (redacted, not yet cut). */
  textRedacted?: boolean;
  /**
   * With attributesRedacted: the values of the keys derivation reads (derivedValues of
   * `attributes`), captured while reading; used when no value needs cutting.
   */
  derived?: readonly string[];
  statusCode: unknown;
  statusMessage: unknown;
  /** The ids are lowercase hex strings or absent (the protobuf reader makes them from bytes). */
  idsLowerHex?: boolean;
}

/** A resource's attributes, redacted and cut once for all of its spans. */
export interface ResourceContext {
  attributes: Record<string, string>;
  cut: number;
  /** derivedValues of `attributes`: what derivation reads from the resource, read once. */
  values: readonly string[];
}

/** A span's derived values when they are read from its map (reused: derivation copies them). */
const spanValues = new Array<string>(DERIVED_COUNT).fill('');

/**
 * Collects the records of one request: both encodings hand it their spans, one at a time, so they
 * share every check and derivation. A refused span is counted, with its reason and a sample.
 */
export class TraceCollector {
  readonly spans: SpanRecord[] = [];
  readonly errors: string[] = [];
  readonly rejected: { reason: string; sample: string }[] = [];
  rejectedSpans = 0;
  readonly limits: DecodeLimits;
  constructor(limits: DecodeLimits) {
    this.limits = limits;
  }

  note(msg: string): void {
    if (this.errors.length < MAX_DECODE_ERRORS) this.errors.push(msg);
  }

  /** The resource's attributes as stored (redacted, cut); computed once per resource. */
  resource(attributes: Record<string, string>): ResourceContext {
    const clean = cleanAttributes(attributes, this.limits);
    return {
      attributes: clean.attributes,
      cut: clean.cut,
      values: derivedValues(clean.attributes),
    };
  }

  /** A scope name as stored. */
  scopeName(name: unknown): string {
    return typeof name === 'string' ? storedText(name, 256).text : '';
  }

  /**
   * Checks and derives one span; a bad one is refused alone. `sample` gives the span's OTLP/JSON
   * (only called when it is refused).
   */
  add(
    f: SpanFields,
    resource: ResourceContext,
    scopeName: string,
    where: string,
    sample: () => OtlpSpan,
  ): void {
    const limits = this.limits;
    try {
      const uncut =
        f.attributesRedacted === true &&
        f.attributesLongest !== undefined &&
        f.attributesLongest <= limits.attributeValueLengthLimit;
      const attrs = uncut
        ? { attributes: f.attributes, cut: 0 }
        : f.attributesRedacted !== true
          ? cleanAttributes(f.attributes, limits)
          : cutAttributes(f.attributes, limits);
      // Captured values hold what the map holds only when nothing was cut.
      const derived =
        uncut && f.derived !== undefined ? f.derived : derivedValues(attrs.attributes, spanValues);
      const stored = f.textRedacted === true ? cutText : storedText;
      const name = stored(typeof f.name === 'string' ? f.name : '', 1024);
      const status = stored(
        typeof f.statusMessage === 'string' ? f.statusMessage : '',
        limits.attributeValueLengthLimit,
      );
      const lowerHex = f.idsLowerHex === true;
      const traceId = hexId(f.traceId, 16, where, 'traceId', false, lowerHex);
      const spanId = hexId(f.spanId, 8, where, 'spanId', false, lowerHex);
      const parentSpanId = hexId(f.parentSpanId, 8, where, 'parentSpanId', true, lowerHex);
      const [start, end] = checkSpanTimes(
        nanos(f.startTimeUnixNano, where, 'startTimeUnixNano'),
        nanos(f.endTimeUnixNano, where, 'endTimeUnixNano'),
        where,
      );
      const spanErrors: string[] = [];
      let record: SpanRecord;
      try {
        record = recordFromValues(
          {
            traceId,
            spanId,
            parentSpanId,
            name: name.text,
            kind: enumValue(f.kind, SPAN_KIND_NAMES, 5),
            startTimeUnixNano: start,
            endTimeUnixNano: end,
            statusCode: enumValue(f.statusCode, STATUS_NAMES, 2),
            statusMessage: status.text,
            scopeName,
            resourceAttributes: resource.attributes,
            spanAttributes: attrs.attributes,
          },
          derived,
          resource.values,
          spanErrors,
        );
      } catch (err) {
        if (err instanceof SpanRejectedError)
          throw new SpanRejectedError(`${where}: ${err.message}`);
        throw err;
      }
      for (const e of spanErrors) this.note(`${where}: ${e}`);
      const cut = attrs.cut + resource.cut + (name.cut ? 1 : 0) + (status.cut ? 1 : 0);
      this.spans.push(boundRecord(record, cut, limits));
    } catch (err) {
      this.rejectedSpans++;
      const reason = err instanceof Error ? err.message : String(err);
      this.note(reason);
      if (this.rejected.length < MAX_REJECTED_SAMPLES)
        this.rejected.push({ reason, sample: spanSample(sample()) });
    }
  }

  result(): DecodedTraces {
    const { spans, rejectedSpans, errors, rejected } = this;
    return rejectedSpans > 0
      ? { spans, rejectedSpans, errors, rejected }
      : { spans, rejectedSpans, errors };
  }
}

/**
 * Turns a request in OTLP/JSON shape into records; invalid spans are counted, not fatal. Every
 * stored text is valid UTF-16, redacted and bounded; times, ids and counts are checked per span.
 */
export function recordsFromRequest(
  request: OtlpTraceRequest,
  limits: DecodeLimits = DECODE_DEFAULTS,
): DecodedTraces {
  const out = new TraceCollector(limits);
  wellFormedDeep(request);
  (request.resourceSpans ?? []).forEach((rs, i) => {
    const resource = out.resource(attributeMap(rs.resource?.attributes));
    (rs.scopeSpans ?? []).forEach((ss, j) => {
      const scopeName = out.scopeName(ss.scope?.name);
      (ss.spans ?? []).forEach((sp: OtlpSpan, k) => {
        out.add(
          {
            traceId: sp.traceId,
            spanId: sp.spanId,
            parentSpanId: sp.parentSpanId,
            name: sp.name,
            kind: sp.kind,
            startTimeUnixNano: sp.startTimeUnixNano,
            endTimeUnixNano: sp.endTimeUnixNano,
            attributes: attributeMap(sp.attributes),
            statusCode: sp.status?.code,
            statusMessage: sp.status?.message,
          },
          resource,
          scopeName,
          `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`,
          () => sp,
        );
      });
    });
  });
  return out.result();
}

const base64ToHex = (b64: unknown): unknown =>
  typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('hex') : b64;

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Decodes a serialized ExportTraceServiceRequest into the OTLP/JSON object shape: ids as lowercase
 * hex, 64-bit integers as decimal strings, enums as numbers, bytes values as base64.
 * Throws OtlpDecodeError when the bytes are not such a message.
 */
export function protobufToOtlpObject(body: Uint8Array): OtlpTraceRequest {
  const type = otlpType(TRACE_REQUEST);
  let obj: OtlpTraceRequest;
  try {
    obj = type.toObject(type.decode(body), {
      longs: String,
      bytes: String,
      enums: Number,
      defaults: false,
      arrays: true,
    });
  } catch (err) {
    throw new OtlpDecodeError(
      `The body is not a valid protobuf ExportTraceServiceRequest (${body.byteLength} bytes): ${reason(err)}.`,
      { cause: err },
    );
  }
  for (const rs of obj.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        sp.traceId = base64ToHex(sp.traceId) as string;
        sp.spanId = base64ToHex(sp.spanId) as string;
        if (sp.parentSpanId !== undefined) sp.parentSpanId = base64ToHex(sp.parentSpanId) as string;
      }
    }
  }
  return obj;
}

/** Parses an OTLP/JSON traces body (UTF-8, a BOM tolerated, invalid bytes replaced) and checks its shape. */
function parseJsonRequest(body: Uint8Array): OtlpTraceRequest {
  // Bytes that are not UTF-8 become U+FFFD: one bad string must not cost the whole request.
  const text = new TextDecoder('utf-8').decode(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`The body is not valid JSON: ${reason(err)}.`, {
      cause: err,
    });
  }
  return assertTraceRequestShape(parsed);
}

/**
 * Decodes an OTLP/HTTP traces body (protobuf, or OTLP/JSON) into span records. Both encodings of
 * the same spans give deep-equal records.
 * Throws OtlpDecodeError when the body as a whole is unreadable; single bad spans are skipped and
 * counted in `rejectedSpans`, with the reason in `errors` (for OTLP partial_success).
 * @example decodeTraceRequest(body, contentType === 'application/json' ? 'json' : 'protobuf')
 */
export function decodeTraceRequest(
  body: Uint8Array,
  encoding: OtlpEncoding,
  limits: DecodeLimits = DECODE_DEFAULTS,
): DecodedTraces {
  return encoding === 'protobuf'
    ? readTraceRequest(body, new TraceCollector(limits))
    : recordsFromRequest(parseJsonRequest(body), limits);
}

const hexToBytes = (hex: unknown): Buffer | undefined =>
  typeof hex === 'string' && hex !== '' ? Buffer.from(hex, 'hex') : undefined;

/** protobufjs wants bytes as bytes; OTLP/JSON has ids in hex and bytes values in base64. */
function bytesForProtobuf(v: unknown): void {
  if (!isRecord(v)) return;
  if (typeof v.bytesValue === 'string') v.bytesValue = Buffer.from(v.bytesValue, 'base64');
  for (const x of listOf(v.arrayValue)) bytesForProtobuf(x);
  for (const kv of listOf(v.kvlistValue)) if (isRecord(kv)) bytesForProtobuf(kv.value);
}

/**
 * Serializes a request given in OTLP/JSON shape as a protobuf ExportTraceServiceRequest: the bytes an
 * OTLP/HTTP exporter posts and the OpenTelemetry Collector's Kafka exporter writes (`otlp_proto`).
 * Accepts what decodeTraceRequest accepts: int64 as strings or numbers, enums as numbers or names.
 * Ids that are not hex cannot be carried over and are written short or empty (so rejected on decode).
 */
export function encodeTraceRequestProtobuf(request: OtlpTraceRequest): Uint8Array {
  // structuredClone, not a JSON round trip: a NaN doubleValue must survive.
  const copy = structuredClone(request);
  for (const rs of copy.resourceSpans ?? []) {
    for (const kv of rs.resource?.attributes ?? []) bytesForProtobuf(kv.value);
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        const s = sp as Record<string, unknown>;
        s.traceId = hexToBytes(sp.traceId);
        s.spanId = hexToBytes(sp.spanId);
        s.parentSpanId = hexToBytes(sp.parentSpanId);
        for (const kv of sp.attributes ?? []) bytesForProtobuf(kv.value);
      }
    }
  }
  const type = otlpType(TRACE_REQUEST);
  return type.encode(type.fromObject(copy)).finish();
}
