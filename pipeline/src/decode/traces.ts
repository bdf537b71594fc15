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
import type { SpanRecord, SpanType, ToolClass } from '../model.js';
import { OtlpDecodeError } from './errors.js';
import {
  assertTraceRequestShape,
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpSpan,
  type OtlpTraceRequest,
} from './otlp-object.js';
import { otlpType, TRACE_REQUEST } from './proto.js';

export type OtlpEncoding = 'protobuf' | 'json';

/** The spans of one export request, plus the spans that were refused (for OTLP partial_success). */
export interface DecodedTraces {
  spans: SpanRecord[];
  rejectedSpans: number;
  /** Reasons, for rejected spans and for values that were ignored (bounded). */
  errors: string[];
}

/** Bound on the reasons kept per request. */
export const MAX_DECODE_ERRORS = 20;

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

function plainValue(v: OtlpAnyValue | undefined): Plain {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(plainValue);
  if (v.kvlistValue !== undefined) {
    const out: Record<string, Plain> = {};
    for (const kv of v.kvlistValue.values ?? []) out[kv.key] = plainValue(kv.value);
    return out;
  }
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

/** An attribute value as a string: scalars as text, arrays and maps as compact JSON. */
function renderValue(v: OtlpAnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(Number(v.doubleValue));
  if (v.bytesValue !== undefined) return v.bytesValue;
  return JSON.stringify(plainValue(v));
}

export function attributeMap(kvs: OtlpKeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of kvs ?? []) {
    if (typeof kv?.key !== 'string') continue;
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

function enumValue(value: unknown, names: Record<string, number>): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : (names[value] ?? 0);
  return 0;
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

function count(text: string, key: string, errors: string[]): number {
  if (text === '') return 0;
  const n = Number(text);
  if (Number.isInteger(n) && n >= 0) return n;
  errors.push(`${key}=${JSON.stringify(text)} is not a token count; used 0`);
  return 0;
}

/** Parses a decimal USD amount exactly into nano-USD (half up past 9 decimals); null if not a number. */
export function usdToNanos(text: string): bigint | null {
  const m = /^\s*(-)?(\d*)(?:\.(\d*))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = (m[3] ?? '').padEnd(10, '0');
  let value = BigInt(m[2] || '0') * 1_000_000_000n + BigInt(frac.slice(0, 9));
  if (Number(frac[9]) >= 5) value += 1n;
  return m[1] ? -value : value;
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
 */
export function toSpanRecord(raw: RawSpanParts, errors: string[] = []): SpanRecord {
  const sa = raw.spanAttributes;
  const ra = raw.resourceAttributes;
  const get = (...keys: string[]): string => lookup(sa, ra, ...keys);
  const num = (key: string): number => count(get(key), key, errors);

  const operation = get(ATTR_GEN_AI_OPERATION_NAME);
  const requestModel = get(ATTR_GEN_AI_REQUEST_MODEL);
  const responseModel = get(ATTR_GEN_AI_RESPONSE_MODEL);
  const toolName = get(ATTR_GEN_AI_TOOL_NAME);

  let inputTokens = num(ATTR_GEN_AI_USAGE_INPUT_TOKENS);
  if (get(ATTR_GEN_AI_USAGE_INPUT_TOKENS) === '')
    inputTokens = num(ATTR_GEN_AI_USAGE_PROMPT_TOKENS);
  let outputTokens = num(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS);
  if (get(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS) === '')
    outputTokens = num(ATTR_GEN_AI_USAGE_COMPLETION_TOKENS);
  const cacheReadTokens = num(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS);
  const hasTotalWrite = get(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) !== '';
  const hasSplit =
    get(ATTR_HM_USAGE_CACHE_CREATION_5M) !== '' || get(ATTR_HM_USAGE_CACHE_CREATION_1H) !== '';
  let cacheWriteTokens = num(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS);
  let cacheWrite5mTokens = num(ATTR_HM_USAGE_CACHE_CREATION_5M);
  const cacheWrite1hTokens = num(ATTR_HM_USAGE_CACHE_CREATION_1H);
  if (!hasSplit) cacheWrite5mTokens = cacheWriteTokens;
  else if (!hasTotalWrite) cacheWriteTokens = cacheWrite5mTokens + cacheWrite1hTokens;
  const hasUsage = inputTokens > 0 || outputTokens > 0;

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
      `${ATTR_HM_REPORTED_COST_USD}=${JSON.stringify(reportedText)} is not a decimal amount; ignored`,
    );

  return {
    ...raw,
    serviceName: ra[ATTR_SERVICE_NAME] ?? '',
    spanType,
    operation,
    provider: get(ATTR_GEN_AI_PROVIDER_NAME, ATTR_GEN_AI_SYSTEM),
    requestModel,
    responseModel,
    sessionId: get(ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID),
    developer: get(ATTR_USER_ID, ATTR_USER_EMAIL, ATTR_USER_NAME),
    team: get(ATTR_HM_TEAM),
    repo: get(ATTR_VCS_REPOSITORY_URL_FULL, ATTR_VCS_REPOSITORY_NAME),
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

// ---------- requests ----------

/** Turns a request in OTLP/JSON shape into records; invalid spans are counted, not fatal. */
export function recordsFromRequest(request: OtlpTraceRequest): DecodedTraces {
  const spans: SpanRecord[] = [];
  const errors: string[] = [];
  let rejectedSpans = 0;
  const note = (msg: string): void => {
    if (errors.length < MAX_DECODE_ERRORS) errors.push(msg);
  };
  (request.resourceSpans ?? []).forEach((rs, i) => {
    const resourceAttributes = attributeMap(rs.resource?.attributes);
    (rs.scopeSpans ?? []).forEach((ss, j) => {
      const scopeName = ss.scope?.name ?? '';
      (ss.spans ?? []).forEach((sp: OtlpSpan, k) => {
        const where = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        try {
          const spanErrors: string[] = [];
          const record = toSpanRecord(
            {
              traceId: hexId(sp.traceId, 16, `${where}.traceId`, false),
              spanId: hexId(sp.spanId, 8, `${where}.spanId`, false),
              parentSpanId: hexId(sp.parentSpanId, 8, `${where}.parentSpanId`, true),
              name: typeof sp.name === 'string' ? sp.name : '',
              kind: enumValue(sp.kind, SPAN_KIND_NAMES),
              startTimeUnixNano: nanos(sp.startTimeUnixNano, `${where}.startTimeUnixNano`),
              endTimeUnixNano: nanos(sp.endTimeUnixNano, `${where}.endTimeUnixNano`),
              statusCode: enumValue(sp.status?.code, STATUS_NAMES),
              statusMessage: typeof sp.status?.message === 'string' ? sp.status.message : '',
              scopeName,
              resourceAttributes,
              spanAttributes: attributeMap(sp.attributes),
            },
            spanErrors,
          );
          for (const e of spanErrors) note(`${where}: ${e}`);
          spans.push(record);
        } catch (err) {
          rejectedSpans++;
          note(err instanceof Error ? err.message : String(err));
        }
      });
    });
  });
  return { spans, rejectedSpans, errors };
}

const base64ToHex = (b64: unknown): unknown =>
  typeof b64 === 'string' ? Buffer.from(b64, 'base64').toString('hex') : b64;

/** Decodes a serialized ExportTraceServiceRequest into the OTLP/JSON object shape. */
export function protobufToOtlpObject(body: Uint8Array): OtlpTraceRequest {
  const type = otlpType(TRACE_REQUEST);
  let message;
  try {
    message = type.decode(body);
  } catch (err) {
    throw new OtlpDecodeError(
      `The body is not a valid protobuf ExportTraceServiceRequest: ${err instanceof Error ? err.message : String(err)}.`,
      { cause: err },
    );
  }
  const obj = type.toObject(message, {
    longs: String,
    bytes: String,
    enums: Number,
    defaults: false,
    arrays: true,
  }) as OtlpTraceRequest;
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

/**
 * Decodes an OTLP/HTTP traces body (protobuf, or OTLP/JSON) into span records.
 * Throws OtlpDecodeError when the body as a whole is unreadable; single bad spans are counted.
 */
export function decodeTraceRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedTraces {
  if (encoding === 'protobuf') return recordsFromRequest(protobufToOtlpObject(body));
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
    );
  } catch (err) {
    throw new OtlpDecodeError(
      `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`,
      { cause: err },
    );
  }
  return recordsFromRequest(assertTraceRequestShape(parsed));
}

const hexToBytes = (hex: unknown): unknown =>
  typeof hex === 'string' && hex !== '' ? Buffer.from(hex, 'hex') : undefined;

/**
 * Serializes a request given in OTLP/JSON shape as a protobuf ExportTraceServiceRequest: the bytes an
 * OTLP/HTTP exporter posts and the OpenTelemetry Collector's Kafka exporter writes (`otlp_proto`).
 */
export function encodeTraceRequestProtobuf(request: OtlpTraceRequest): Uint8Array {
  const copy = JSON.parse(JSON.stringify(request)) as OtlpTraceRequest;
  const fixValue = (v: OtlpAnyValue | undefined): void => {
    if (!v) return;
    if (v.bytesValue !== undefined)
      (v as Record<string, unknown>).bytesValue = Buffer.from(v.bytesValue, 'base64');
    for (const x of v.arrayValue?.values ?? []) fixValue(x);
    for (const kv of v.kvlistValue?.values ?? []) fixValue(kv.value);
  };
  for (const rs of copy.resourceSpans ?? []) {
    for (const kv of rs.resource?.attributes ?? []) fixValue(kv.value);
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        const s = sp as Record<string, unknown>;
        s.traceId = hexToBytes(sp.traceId);
        s.spanId = hexToBytes(sp.spanId);
        s.parentSpanId = hexToBytes(sp.parentSpanId);
        for (const kv of sp.attributes ?? []) fixValue(kv.value);
      }
    }
  }
  const type = otlpType(TRACE_REQUEST);
  return type.encode(type.fromObject(copy)).finish();
}
