export {
  decodeTraceRequest,
  encodeTraceRequestProtobuf,
  protobufToOtlpObject,
  recordsFromRequest,
  toSpanRecord,
  usdToNanos,
  MAX_DECODE_ERRORS,
} from './traces.js';
export type { DecodedTraces, OtlpEncoding, RawSpanParts } from './traces.js';
export { OtlpDecodeError } from './errors.js';
export { decodeLogsRequest, encodeLogsRequestProtobuf, parseLogsRequest } from './logs.js';
export { decodeMetricsRequest, CROSS_CHECK_METRICS } from './metrics.js';
export type { DecodedMetrics, MetricPoint } from './metrics.js';
export type { DecodedLogs } from './logs.js';
export {
  mapClaudeCode,
  mapCodex,
  mapGeminiCli,
  agentMapper,
  toolArgsAttributes,
} from './agents.js';
export type { MappedEvent } from './agents.js';
export { assertTraceRequestShape } from './otlp-object.js';
export type {
  OtlpTraceRequest,
  OtlpResourceSpans,
  OtlpScopeSpans,
  OtlpSpan,
  OtlpKeyValue,
  OtlpAnyValue,
} from './otlp-object.js';
export {
  ATTR_HM_TRUNCATED,
  DECODE_DEFAULTS,
  MAX_TOKEN_COUNT,
  MIN_TIME_NANOS,
  MAX_TIME_NANOS,
  SpanRejectedError,
} from './validate.js';
export type { DecodeLimits } from './validate.js';
export { MAX_METRIC_VALUE } from './metrics.js';
