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
export { assertTraceRequestShape } from './otlp-object.js';
export type {
  OtlpTraceRequest,
  OtlpResourceSpans,
  OtlpScopeSpans,
  OtlpSpan,
  OtlpKeyValue,
  OtlpAnyValue,
} from './otlp-object.js';
