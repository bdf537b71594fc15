import { diag, trace, type TracerProvider } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  type IdGenerator,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { SessionSpanProcessor } from './session.js';
import { ATTR_HM_SOURCE, ATTR_SERVICE_NAME } from './semconv.js';
import {
  createHarnessTracer,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  type HarnessTracer,
} from './tracer.js';

export interface TelemetryOptions {
  /** service.name of the harness. Default 'agent-harness' (OTEL_SERVICE_NAME wins over the default, not over this). */
  serviceName?: string;
  /** OTLP/HTTP traces endpoint (full URL). Default http://127.0.0.1:4318/v1/traces (a local `harness-meter start`). */
  endpoint?: string;
  /** Extra HTTP headers for the exporter (e.g. authorization for a shared collector). */
  headers?: Record<string, string>;
  /** Extra resource attributes (e.g. deployment.environment). */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** Put redacted, truncated tool arguments and results on spans. Default false. */
  captureContent?: boolean;
  /** Replaces the OTLP/HTTP exporter (tests, or another transport); still behind the bounded batch processor. */
  exporter?: SpanExporter;
  /** Replaces the batch span processor (and exporter) entirely; the session processor is always added first. */
  spanProcessors?: SpanProcessor[];
  /**
   * Trace and span ids; default: random. A fixed generator makes a replay send the same ids, so
   * a receiver that de-duplicates stores it once (the harness-meter demo does this).
   */
  idGenerator?: IdGenerator;
  /** Bound on spans waiting for export; beyond it spans are dropped, never blocking the harness. Default 4096. */
  maxQueueSize?: number;
  /**
   * Bound on one export, retries included (also bounds `shutdown()` when the endpoint is down).
   * Default 10000.
   */
  exportTimeoutMillis?: number;
  /**
   * Told about telemetry failures, which never reach the harness: failed exports, SDK start and
   * shutdown errors, attributes that could not be computed. Default: OpenTelemetry's diag logger.
   */
  onError?: (error: unknown) => void;
}

/** The wrappers, plus the lifecycle of the telemetry pipeline. */
export interface Telemetry extends HarnessTracer {
  /** Exports what is queued now. Never rejects. */
  forceFlush(): Promise<void>;
  /** Flushes and stops (idempotent: later calls return the same promise). Never rejects. */
  shutdown(): Promise<void>;
}

/** Defaults of `startTelemetry`, named once. */
export const TELEMETRY_DEFAULTS = {
  serviceName: 'agent-harness',
  endpoint: 'http://127.0.0.1:4318/v1/traces',
  maxQueueSize: 4096,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
} as const;

/** Passes exports through, telling `report` about the ones that failed (the SDK only logs them). */
function reportingExporter(inner: SpanExporter, report: (e: unknown) => void): SpanExporter {
  const wrapped: SpanExporter = {
    export(spans, done) {
      inner.export(spans, (result) => {
        // ExportResultCode.SUCCESS (0) of @opentelemetry/core, which this package does not depend on.
        if ((result.code as number) !== 0)
          report(
            result.error ??
              new Error(`harness-meter: export of ${String(spans.length)} spans failed`),
          );
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
  };
  if (inner.forceFlush) wrapped.forceFlush = () => inner.forceFlush?.() ?? Promise.resolve();
  return wrapped;
}

/**
 * Starts telemetry for a harness: OpenTelemetry NodeSDK (AsyncLocalStorage context, W3C
 * propagation), OTLP/HTTP (JSON) trace exporter behind a bounded batch span processor, and the
 * session processor that stamps the session on every span. Traces only: it installs no metrics
 * reader and no log exporter. Resource: service.name, harness_meter.source='sdk', your
 * `resourceAttributes` (these win), OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, host and OS (not
 * the process command line, which may hold secrets). Call once at start, and `await shutdown()`
 * before exit.
 *
 * @example
 * const hm = startTelemetry({ serviceName: 'my-harness' });
 * await hm.withSession({ agentName: 'coder', developer: 'ana', repositoryUrl, branch }, () => agentLoop(hm));
 * await hm.shutdown();
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const userReport = options.onError;
  const report = (e: unknown): void => {
    try {
      if (userReport) userReport(e);
      else diag.warn('harness-meter: telemetry error', e);
    } catch {
      // never let telemetry break the harness
    }
  };
  let processors: SpanProcessor[] = [];
  let sdk: NodeSDK | undefined;
  try {
    const timeout = options.exportTimeoutMillis ?? TELEMETRY_DEFAULTS.exportTimeoutMillis;
    const exporter = reportingExporter(
      options.exporter ??
        new OTLPTraceExporter({
          url: options.endpoint ?? TELEMETRY_DEFAULTS.endpoint,
          ...(options.headers ? { headers: options.headers } : {}),
          timeoutMillis: timeout,
        }),
      report,
    );
    const maxQueueSize = options.maxQueueSize ?? TELEMETRY_DEFAULTS.maxQueueSize;
    processors = [
      new SessionSpanProcessor(),
      ...(options.spanProcessors ?? [
        new BatchSpanProcessor(exporter, {
          maxQueueSize,
          maxExportBatchSize: Math.min(TELEMETRY_DEFAULTS.maxExportBatchSize, maxQueueSize),
          scheduledDelayMillis: TELEMETRY_DEFAULTS.scheduledDelayMillis,
          exportTimeoutMillis: timeout,
        }),
      ]),
    ];
    // Precedence, lowest first: SDK defaults, our default service name, the environment
    // (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), host and OS, then what the caller passed.
    const resource = defaultResource()
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: TELEMETRY_DEFAULTS.serviceName }))
      .merge(detectResources({ detectors: [envDetector, hostDetector, osDetector] }))
      .merge(
        resourceFromAttributes({
          ...options.resourceAttributes,
          ...(options.serviceName ? { [ATTR_SERVICE_NAME]: options.serviceName } : {}),
          [ATTR_HM_SOURCE]: 'sdk',
        }),
      );
    sdk = new NodeSDK({
      resource,
      ...(options.idGenerator ? { idGenerator: options.idGenerator } : {}),
      autoDetectResources: false,
      spanProcessors: processors,
      // Traces only: no metrics reader, no log exporters from the OTEL_* defaults.
      metricReaders: [],
      logRecordProcessors: [],
      instrumentations: [],
    });
    sdk.start();
  } catch (e) {
    report(e);
  }
  // The SDK's own provider, so our spans reach our exporter even when the harness registered a
  // global provider first (NodeSDK then cannot register its own); the global one otherwise.
  const own = (sdk as unknown as { _tracerProvider?: TracerProvider } | undefined)?._tracerProvider;
  const wrappers = createHarnessTracer({
    tracer: (own ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    ),
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
      stopped ??= (async () => {
        try {
          await sdk?.shutdown();
        } catch (e) {
          report(e);
        }
      })();
      return stopped;
    },
  };
}
