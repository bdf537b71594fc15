import type { Message, Producer } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import {
  decodeLogsRequest,
  decodeMetricsRequest,
  encodeLogsRequestProtobuf,
  parseLogsRequest,
  assertTraceRequestShape,
  encodeTraceRequestProtobuf,
  OtlpDecodeError,
  protobufToOtlpObject,
  recordsFromRequest,
  type DecodeLimits,
  type OtlpTraceRequest,
} from '../decode/index.js';
import { PipelineError } from '../errors.js';
import { ANONYMOUS, type IngestContext, type OtlpEncoding } from '../ingest/server.js';
import { identityHeaders } from './identity.js';
import { bindIdentity, overrideMessage } from '../auth/index.js';
import type { SpanRecord } from '../model.js';
import type { PartialSuccess } from '../ingest/otlp-response.js';
import type { Metrics } from '../metrics.js';

/** partial_success.error_message: decode errors, and how many spans a bound key re-stamped. */
function withOverrides(
  errors: readonly string[],
  spans: readonly SpanRecord[],
  context: IngestContext,
): string {
  const warning =
    context.keyId === '' ? '' : overrideMessage(bindIdentity(spans, context).overridden, context);
  return [...errors.slice(0, 5), ...(warning ? [warning] : [])].join('; ');
}

/**
 * The ingest stage over Kafka: checks an OTLP request, then writes it to the raw topic exactly as
 * the OpenTelemetry Collector's Kafka exporter does (one ExportTraceServiceRequest per message,
 * `otlp_proto`, or `otlp_json` when so configured). Resolves only once Kafka acknowledged the write
 * (acks=all); a Kafka failure is a retriable error (HTTP 503 with Retry-After).
 */
export function createKafkaIngest(
  producer: Producer,
  cfg: KafkaConfig,
  metrics: Metrics,
  limits?: DecodeLimits,
) {
  return async (
    body: Uint8Array,
    encoding: OtlpEncoding,
    context: IngestContext = ANONYMOUS,
  ): Promise<PartialSuccess> => {
    let request: OtlpTraceRequest;
    if (encoding === 'protobuf') request = protobufToOtlpObject(body);
    else {
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
      request = assertTraceRequestShape(parsed);
    }
    const checked = recordsFromRequest(request, limits);
    const partial = {
      rejected: checked.rejectedSpans,
      message: withOverrides(checked.errors, checked.spans, context),
    };
    if (checked.spans.length === 0) return partial;
    const value =
      cfg.otlpEncoding === 'otlp_json'
        ? Buffer.from(encoding === 'json' ? body : Buffer.from(JSON.stringify(request)))
        : Buffer.from(encoding === 'protobuf' ? body : encodeTraceRequestProtobuf(request));
    const started = Date.now();
    await sendOrRetryLater(producer, metrics, cfg.otlpSpansTopic, 'spans', [
      { value, ...identityHeaders(context) },
    ]);
    metrics.observe(
      'ingest_kafka_write_seconds',
      'Time for Kafka to acknowledge a request (acks=all).',
      (Date.now() - started) / 1000,
    );
    metrics.inc('ingest_requests_total', 'OTLP requests written to Kafka.');
    metrics.inc(
      'ingest_spans_total',
      'Spans in OTLP requests written to Kafka.',
      checked.spans.length,
    );
    return partial;
  };
}

/** The ingest stage for OTLP logs (agents' own events): checked, then written to the logs topic. */
export function createKafkaLogsIngest(
  producer: Producer,
  cfg: KafkaConfig,
  metrics: Metrics,
  limits?: DecodeLimits,
) {
  return async (
    body: Uint8Array,
    encoding: OtlpEncoding,
    context: IngestContext = ANONYMOUS,
  ): Promise<PartialSuccess> => {
    const checked = decodeLogsRequest(body, encoding, limits);
    const partial = {
      rejected: checked.rejected,
      message: withOverrides(checked.errors, checked.spans, context),
    };
    if (checked.spans.length === 0) return partial;
    const value =
      cfg.otlpEncoding === 'otlp_json'
        ? encoding === 'json'
          ? Buffer.from(body)
          : Buffer.from(JSON.stringify(parseLogsRequest(body, 'protobuf')))
        : Buffer.from(encoding === 'protobuf' ? body : encodeLogsRequestProtobuf(body));
    await sendOrRetryLater(producer, metrics, cfg.otlpLogsTopic, 'logs', [
      { value, ...identityHeaders(context) },
    ]);
    metrics.inc(
      'ingest_log_events_total',
      'Agent events in OTLP logs written to Kafka.',
      checked.spans.length,
    );
    return partial;
  };
}

/** Header naming a metrics message's encoding when it differs from HM_KAFKA_OTLP_ENCODING. */
export const ENCODING_HEADER = 'hm-otlp-encoding';

/**
 * The ingest stage for OTLP metrics (agents' usage counters): checked, then written to the metrics
 * topic as received (a request in the other encoding carries the `hm-otlp-encoding` header), for the
 * metrics stage of an enrich process to store. Requests without a cross-check counter are answered
 * and not written.
 */
export function createKafkaMetricsIngest(
  producer: Producer,
  cfg: KafkaConfig,
  metrics: Metrics,
  limits?: DecodeLimits,
) {
  return async (body: Uint8Array, encoding: OtlpEncoding): Promise<PartialSuccess> => {
    const checked = decodeMetricsRequest(body, encoding, limits);
    const partial = { rejected: checked.rejected, message: checked.errors.slice(0, 5).join('; ') };
    if (checked.points.length === 0) return partial;
    const configured = cfg.otlpEncoding === 'otlp_json' ? 'json' : 'protobuf';
    await sendOrRetryLater(producer, metrics, cfg.otlpMetricsTopic, 'metrics', [
      {
        value: Buffer.from(body),
        ...(encoding === configured ? {} : { headers: { [ENCODING_HEADER]: encoding } }),
      },
    ]);
    metrics.inc(
      'ingest_metric_points_total',
      'Metric data points in OTLP requests written to Kafka.',
      checked.points.length,
    );
    return partial;
  };
}

/** Writes one request's messages with acks=all; a refusal is counted and answered 503 (retry later). */
async function sendOrRetryLater(
  producer: Producer,
  metrics: Metrics,
  topic: string,
  what: string,
  messages: Message[],
): Promise<void> {
  try {
    await producer.send({ topic, acks: -1, messages });
  } catch (err) {
    metrics.inc('ingest_kafka_errors_total', 'Writes to Kafka that failed (answered 503).');
    throw new PipelineError(
      'SINK_FAILED',
      `Kafka did not accept the ${what} (${err instanceof Error ? err.message : String(err)}). Retry later.`,
      { retriable: true, cause: err },
    );
  }
}
