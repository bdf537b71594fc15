import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_SYSTEM,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_COMPLETION_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_PROMPT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_HM_REPORTED_COST_USD,
  ATTR_HM_SOURCE,
  ATTR_HM_TASK_INTENT,
  ATTR_HM_TEAM,
  ATTR_HM_TOOL_ARGS_HASH,
  ATTR_HM_TOOL_CLASS,
  ATTR_HM_TOOL_ERROR,
  ATTR_HM_TOOL_RESULT_BYTES,
  ATTR_HM_TOOL_RESULT_TOKENS,
  ATTR_HM_TOOL_TARGET_HASH,
  ATTR_HM_USAGE_CACHE_CREATION_1H,
  ATTR_HM_USAGE_CACHE_CREATION_5M,
  ATTR_SERVICE_NAME,
  ATTR_SESSION_ID,
  ATTR_USER_EMAIL,
  ATTR_USER_ID,
  ATTR_USER_NAME,
  ATTR_VCS_CHANGE_ID,
  ATTR_VCS_REF_HEAD_NAME,
  ATTR_VCS_REF_HEAD_REVISION,
  ATTR_VCS_REPOSITORY_NAME,
  ATTR_VCS_REPOSITORY_URL_FULL,
  GEN_AI_INFERENCE_OPERATIONS,
  GEN_AI_OPERATION,
} from '@harness-meter/instrumentation/semconv';
import type { SpanRecord, SpanType, ToolClass, UsageCheck } from '../model.js';
import { OtlpDecodeError } from './errors.js';
import {
  assertTraceRequestShape,
  type OtlpKeyValue,
  type OtlpSpan,
  type OtlpTraceRequest,
} from './otlp-object.js';
import { otlpType, TRACE_REQUEST } from './proto.js';
import {
  boundRecord,
  checkedCount,
  checkSpanTimes,
  cleanAttributes,
  DECODE_DEFAULTS,
  spanSample,
  SpanRejectedError,
  storedText,
  wellFormedDeep,
  type DecodeLimits,
} from './validate.js';

export type OtlpEncoding = 'protobuf' | 'json';

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

const TOOL_CLASSES: readonly ToolClass[] = ['read', 'write', 'search', 'exec', 'fetch', 'other'];
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

// ---------- attribute values ----------

type Plain = string | number | boolean | null | Plain[] | { [k: string]: Plain };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const listOf = (container: unknown): unknown[] =>
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
function plainValue(v: unknown, depth = 0): Plain {
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
function renderValue(v: unknown): string {
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

// ---------- ids, times, enums ----------

const HEX_RE = /^[0-9a-f]+$/;

function hexId(value: unknown, bytes: number, field: string, optional: boolean): string {
  if ((value === undefined || value === null || value === '') && optional) return '';
  if (typeof value !== 'string')
    throw new Error(
      `${field}: expected ${bytes * 2} hex characters, got ${value === undefined ? 'nothing' : typeof value}`,
    );
  const hex = value.toLowerCase();
  if (hex.length !== bytes * 2 || !HEX_RE.test(hex))
    throw new Error(
      `${field}: expected ${bytes * 2} hex characters, got ${JSON.stringify(value.slice(0, 40))}`,
    );
  if (/^0+$/.test(hex)) {
    if (optional) return '';
    throw new Error(`${field}: an all-zero id is invalid`);
  }
  return hex;
}

function nanos(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  throw new Error(
    `${field}: expected an unsigned 64-bit integer (a decimal string), got ${JSON.stringify(value)}`,
  );
}

/** An OTLP enum: a known number, or a known name; anything else (unknown, negative, huge) is 0. */
function enumValue(value: unknown, names: Record<string, number>): number {
  const known = Object.values(names);
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
  return n !== undefined && known.includes(n) ? n : 0;
}

// ---------- derivation ----------

/** Looks a key up in span attributes, then resource attributes. */
function lookup(
  span: Record<string, string>,
  resource: Record<string, string>,
  ...keys: string[]
): string {
  for (const k of keys) {
    const v = span[k];
    if (v !== undefined && v !== '') return v;
  }
  for (const k of keys) {
    const v = resource[k];
    if (v !== undefined && v !== '') return v;
  }
  return '';
}

const DECIMAL_RE = /^\+?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/;
const MAX_NANOS = 9_223_372_036_854_775_807n; // Int64, what the store keeps

/**
 * Parses a non-negative decimal USD amount exactly into integer nano-USD, rounding half up past 9
 * decimals; exponent notation (how JS renders a small double, '1e-7') is accepted. null when the
 * text is not such an amount (negative, not a number, beyond Int64 nano-USD).
 * @example usdToNanos('0.0123456789') === 12345679n
 */
export function usdToNanos(text: string): bigint | null {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return null;
  const whole = m[1] ?? '';
  const frac = m[2] ?? '';
  if (whole === '' && frac === '') return null;
  const digits = BigInt(whole + frac);
  const shift = 9 + Number(m[3] ?? '0') - frac.length;
  let nanos: bigint;
  if (shift >= 0) nanos = digits * 10n ** BigInt(shift);
  else {
    const unit = 10n ** BigInt(-shift);
    nanos = digits / unit;
    if ((digits % unit) * 2n >= unit) nanos += 1n;
  }
  return nanos > MAX_NANOS ? null : nanos;
}

function prNumber(text: string): number {
  const m = /^#?(\d{1,9})$/.exec(text.trim());
  return m ? Number(m[1]) : 0;
}

export interface RawSpanParts {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  statusCode: number;
  statusMessage: string;
  scopeName: string;
  resourceAttributes: Record<string, string>;
  spanAttributes: Record<string, string>;
}

/**
 * Derives harness-meter's fields from a span's attributes (span first, then resource) per the
 * GenAI, VCS and general semantic conventions. Pure; reusable for records built from log events.
 * Throws SpanRejectedError when a count is not a non-negative integer within MAX_TOKEN_COUNT.
 */
export function toSpanRecord(raw: RawSpanParts, errors: string[] = []): SpanRecord {
  const sa = raw.spanAttributes;
  const ra = raw.resourceAttributes;
  // Span first, then resource; '' when neither has a non-empty value. No rest arguments, no closures
  // over lists: this runs for every span.
  const get = (key: string): string => {
    const v = sa[key];
    if (v !== undefined && v !== '') return v;
    const r = ra[key];
    return r !== undefined && r !== '' ? r : '';
  };
  const get2 = (a: string, b: string): string => {
    const s1 = sa[a];
    if (s1 !== undefined && s1 !== '') return s1;
    const s2 = sa[b];
    if (s2 !== undefined && s2 !== '') return s2;
    const r1 = ra[a];
    if (r1 !== undefined && r1 !== '') return r1;
    const r2 = ra[b];
    return r2 !== undefined && r2 !== '' ? r2 : '';
  };
  const num = (key: string): number => checkedCount(get(key), key);

  const operation = get(ATTR_GEN_AI_OPERATION_NAME);
  const requestModel = get(ATTR_GEN_AI_REQUEST_MODEL);
  const responseModel = get(ATTR_GEN_AI_RESPONSE_MODEL);
  const toolName = get(ATTR_GEN_AI_TOOL_NAME);

  const inputText = get(ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const inputTokens =
    inputText === ''
      ? num(ATTR_GEN_AI_USAGE_PROMPT_TOKENS)
      : checkedCount(inputText, ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  const outputText = get(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  const outputTokens =
    outputText === ''
      ? num(ATTR_GEN_AI_USAGE_COMPLETION_TOKENS)
      : checkedCount(outputText, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  const cacheReadTokens = num(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
  const totalWriteText = get(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
  const write5mText = get(ATTR_HM_USAGE_CACHE_CREATION_5M);
  const write1hText = get(ATTR_HM_USAGE_CACHE_CREATION_1H);
  const hasTotalWrite = totalWriteText !== '';
  const hasSplit = write5mText !== '' || write1hText !== '';
  let cacheWriteTokens = checkedCount(
    totalWriteText,
    ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  );
  let cacheWrite5mTokens = checkedCount(write5mText, ATTR_HM_USAGE_CACHE_CREATION_5M);
  const cacheWrite1hTokens = checkedCount(write1hText, ATTR_HM_USAGE_CACHE_CREATION_1H);
  let usageCheck: UsageCheck = '';
  if (hasSplit && hasTotalWrite && cacheWrite5mTokens + cacheWrite1hTokens !== cacheWriteTokens)
    usageCheck = 'cache_split_mismatch';
  if (!hasSplit) cacheWrite5mTokens = cacheWriteTokens;
  else if (!hasTotalWrite) cacheWriteTokens = cacheWrite5mTokens + cacheWrite1hTokens;
  if (cacheReadTokens + cacheWriteTokens > inputTokens) usageCheck = 'cache_exceeds_input';
  // "Usage present": any of the input/output counts is set (even 0), as producers without an operation name send it.
  const hasUsage =
    inputText !== '' ||
    outputText !== '' ||
    get(ATTR_GEN_AI_USAGE_PROMPT_TOKENS) !== '' ||
    get(ATTR_GEN_AI_USAGE_COMPLETION_TOKENS) !== '';

  let spanType: SpanType = 'other';
  if (
    GEN_AI_INFERENCE_OPERATIONS.includes(operation) ||
    (operation === '' && hasUsage && (requestModel || responseModel))
  )
    spanType = 'llm';
  else if (operation === GEN_AI_OPERATION.executeTool || toolName !== '') spanType = 'tool';
  else if (operation === GEN_AI_OPERATION.invokeAgent || operation === GEN_AI_OPERATION.createAgent)
    spanType = 'agent';

  const toolClassText = get(ATTR_HM_TOOL_CLASS);
  const toolClass: ToolClass | '' =
    toolClassText === ''
      ? ''
      : (TOOL_CLASSES as readonly string[]).includes(toolClassText)
        ? (toolClassText as ToolClass)
        : 'other';
  const reportedText = get(ATTR_HM_REPORTED_COST_USD);
  const reportedCostNanos = reportedText === '' ? null : usdToNanos(reportedText);
  if (reportedText !== '' && reportedCostNanos === null)
    errors.push(
      `${ATTR_HM_REPORTED_COST_USD}=${JSON.stringify(reportedText)} is not a non-negative decimal amount; ignored`,
    );

  // Every field written out (no spread of `raw`): one object shape for every record.
  return {
    traceId: raw.traceId,
    spanId: raw.spanId,
    parentSpanId: raw.parentSpanId,
    name: raw.name,
    kind: raw.kind,
    startTimeUnixNano: raw.startTimeUnixNano,
    endTimeUnixNano: raw.endTimeUnixNano,
    statusCode: raw.statusCode,
    statusMessage: raw.statusMessage,
    scopeName: raw.scopeName,
    resourceAttributes: ra,
    spanAttributes: sa,
    serviceName: ra[ATTR_SERVICE_NAME] ?? '',
    spanType,
    operation,
    provider: get2(ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_SYSTEM),
    requestModel,
    responseModel,
    sessionId: get2(ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID),
    developer: developerOf(sa, ra),
    team: get(ATTR_HM_TEAM),
    repo: get2(ATTR_VCS_REPOSITORY_URL_FULL, ATTR_VCS_REPOSITORY_NAME),
    branch: get(ATTR_VCS_REF_HEAD_NAME),
    commit: get(ATTR_VCS_REF_HEAD_REVISION),
    pr: prNumber(get(ATTR_VCS_CHANGE_ID)),
    intent: get(ATTR_HM_TASK_INTENT),
    source: get(ATTR_HM_SOURCE) || 'otel',
    inputTokens,
    outputTokens,
    cacheReadTokens,
    cacheWriteTokens,
    cacheWrite5mTokens,
    cacheWrite1hTokens,
    reasoningTokens: num(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS),
    reportedCostNanos,
    usageCheck: spanType === 'llm' ? usageCheck : '',
    toolName,
    toolCallId: get(ATTR_GEN_AI_TOOL_CALL_ID),
    toolClass,
    argsHash: get(ATTR_HM_TOOL_ARGS_HASH),
    targetHash: get(ATTR_HM_TOOL_TARGET_HASH),
    resultBytes: num(ATTR_HM_TOOL_RESULT_BYTES),
    resultTokens: num(ATTR_HM_TOOL_RESULT_TOKENS),
    isError:
      raw.statusCode === 2 || get(ATTR_ERROR_TYPE) !== '' || get(ATTR_HM_TOOL_ERROR) === 'true',
  };
}

/** The developer: user.id, user.email, user.name, span attributes first (as lookup does). */
function developerOf(sa: Record<string, string>, ra: Record<string, string>): string {
  return lookup(sa, ra, ATTR_USER_ID, ATTR_USER_EMAIL, ATTR_USER_NAME);
}

// ---------- requests ----------

/**
 * Turns a request in OTLP/JSON shape into records; invalid spans are counted, not fatal. Every
 * stored text is valid UTF-16, redacted and bounded; times, ids and counts are checked per span.
 */
export function recordsFromRequest(
  request: OtlpTraceRequest,
  limits: DecodeLimits = DECODE_DEFAULTS,
): DecodedTraces {
  const spans: SpanRecord[] = [];
  const errors: string[] = [];
  const rejected: { reason: string; sample: string }[] = [];
  let rejectedSpans = 0;
  const note = (msg: string): void => {
    if (errors.length < MAX_DECODE_ERRORS) errors.push(msg);
  };
  wellFormedDeep(request);
  (request.resourceSpans ?? []).forEach((rs, i) => {
    const resource = cleanAttributes(attributeMap(rs.resource?.attributes), limits);
    (rs.scopeSpans ?? []).forEach((ss, j) => {
      const scopeName =
        typeof ss.scope?.name === 'string' ? storedText(ss.scope.name, 256).text : '';
      (ss.spans ?? []).forEach((sp: OtlpSpan, k) => {
        const where = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        try {
          const spanErrors: string[] = [];
          const attrs = cleanAttributes(attributeMap(sp.attributes), limits);
          const name = storedText(typeof sp.name === 'string' ? sp.name : '', 1024);
          const status = storedText(
            typeof sp.status?.message === 'string' ? sp.status.message : '',
            limits.attributeValueLengthLimit,
          );
          const traceId = hexId(sp.traceId, 16, `${where}.traceId`, false);
          const spanId = hexId(sp.spanId, 8, `${where}.spanId`, false);
          const parentSpanId = hexId(sp.parentSpanId, 8, `${where}.parentSpanId`, true);
          const [start, end] = checkSpanTimes(
            nanos(sp.startTimeUnixNano, `${where}.startTimeUnixNano`),
            nanos(sp.endTimeUnixNano, `${where}.endTimeUnixNano`),
            where,
          );
          let record: SpanRecord;
          try {
            record = toSpanRecord(
              {
                traceId,
                spanId,
                parentSpanId,
                name: name.text,
                kind: enumValue(sp.kind, SPAN_KIND_NAMES),
                startTimeUnixNano: start,
                endTimeUnixNano: end,
                statusCode: enumValue(sp.status?.code, STATUS_NAMES),
                statusMessage: status.text,
                scopeName,
                resourceAttributes: resource.attributes,
                spanAttributes: attrs.attributes,
              },
              spanErrors,
            );
          } catch (err) {
            if (err instanceof SpanRejectedError)
              throw new SpanRejectedError(`${where}: ${err.message}`);
            throw err;
          }
          for (const e of spanErrors) note(`${where}: ${e}`);
          const cut = attrs.cut + resource.cut + (name.cut ? 1 : 0) + (status.cut ? 1 : 0);
          spans.push(boundRecord(record, cut, limits));
        } catch (err) {
          rejectedSpans++;
          const reason = err instanceof Error ? err.message : String(err);
          note(reason);
          if (rejected.length < MAX_REJECTED_SAMPLES)
            rejected.push({ reason, sample: spanSample(sp) });
        }
      });
    });
  });
  return rejectedSpans > 0
    ? { spans, rejectedSpans, errors, rejected }
    : { spans, rejectedSpans, errors };
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
  return recordsFromRequest(
    encoding === 'protobuf' ? protobufToOtlpObject(body) : parseJsonRequest(body),
    limits,
  );
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
