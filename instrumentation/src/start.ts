import { diag, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { SessionSpanProcessor } from './session.js';
import { ATTR_HM_SOURCE, ATTR_SERVICE_NAME } from './semconv.js';
import { createHarnessTracer, type HarnessTracer } from './tracer.js';

export interface TelemetryOptions {
  /** service.name of the harness. Default 'agent-harness'. */
  serviceName?: string;
  /** OTLP/HTTP traces endpoint. Default http://127.0.0.1:4318/v1/traces (a local `harness-meter start`). */
  endpoint?: string;
  /** Extra HTTP headers for the exporter (e.g. authorization for a shared collector). */
  headers?: Record<string, string>;
  /** Extra resource attributes (e.g. deployment.environment). */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Put redacted, truncated tool arguments and results on spans. Default false. */
  captureContent?: boolean;
  /** Replaces the OTLP/HTTP exporter (tests, or another transport). */
  exporter?: SpanExporter;
  /** Replaces the batch span processor entirely (the session processor is always added). */
  spanProcessors?: SpanProcessor[];
  /** Bound on spans waiting for export; beyond it spans are dropped, never blocking the harness. Default 4096. */
  maxQueueSize?: number;
  /** Told about telemetry failures (which never reach the harness). */
  onError?: (error: unknown) => void;
}

/** The wrappers, plus the lifecycle of the telemetry pipeline. */
export interface Telemetry extends HarnessTracer {
  /** Exports what is queued now. Never throws. */
  forceFlush(): Promise<void>;
  /** Flushes and stops. Never throws. */
  shutdown(): Promise<void>;
}

export const TELEMETRY_DEFAULTS = {
  serviceName: 'agent-harness',
  endpoint: 'http://127.0.0.1:4318/v1/traces',
  maxQueueSize: 4096,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
} as const;

/**
 * Starts telemetry for a harness: OpenTelemetry NodeSDK, OTLP/HTTP exporter, batch span processor,
 * session stamping. Call once at start, and `shutdown()` before exit.
 *
 * @example
 * const hm = startTelemetry({ serviceName: 'my-harness' });
 * await hm.withSession({ developer: 'ana', repositoryUrl, branch }, () => agentLoop(hm));
 * await hm.shutdown();
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const report =
    options.onError ?? ((e: unknown) => diag.warn('harness-meter: telemetry error', e));
  const exporter =
    options.exporter ??
    new OTLPTraceExporter({
      url: options.endpoint ?? TELEMETRY_DEFAULTS.endpoint,
      ...(options.headers ? { headers: options.headers } : {}),
      timeoutMillis: TELEMETRY_DEFAULTS.exportTimeoutMillis,
    });
  const processors: SpanProcessor[] = [
    new SessionSpanProcessor(),
    ...(options.spanProcessors ?? [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: options.maxQueueSize ?? TELEMETRY_DEFAULTS.maxQueueSize,
        maxExportBatchSize: TELEMETRY_DEFAULTS.maxExportBatchSize,
        scheduledDelayMillis: TELEMETRY_DEFAULTS.scheduledDelayMillis,
        exportTimeoutMillis: TELEMETRY_DEFAULTS.exportTimeoutMillis,
      }),
    ]),
  ];
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName ?? TELEMETRY_DEFAULTS.serviceName,
      [ATTR_HM_SOURCE]: 'sdk',
      ...options.resourceAttributes,
    }),
    spanProcessors: processors,
    instrumentations: [],
  });
  try {
    sdk.start();
  } catch (e) {
    report(e);
  }
  const tracer = trace.getTracer('@harness-meter/instrumentation', '0.1.0');
  const wrappers = createHarnessTracer({
    tracer,
    ...(options.captureContent === undefined ? {} : { captureContent: options.captureContent }),
    onError: report,
  });
  let stopped: Promise<void> | undefined;
  return {
    ...wrappers,
    async forceFlush() {
      try {
        await Promise.all(processors.map((p) => p.forceFlush()));
      } catch (e) {
        report(e);
      }
    },
    shutdown() {
      stopped ??= sdk.shutdown().catch((e: unknown) => report(e));
      return stopped;
    },
  };
}
