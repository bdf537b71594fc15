import { diag } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
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
  type HarnessTracerOptions,
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

/** Options of `harnessMeterSpanProcessors`: where and how spans are exported. */
export type SpanProcessorOptions = Pick<
  TelemetryOptions,
  'endpoint' | 'headers' | 'exporter' | 'maxQueueSize' | 'exportTimeoutMillis' | 'onError'
>;

/**
 * The span processors harness-meter needs, for a harness that builds its own OpenTelemetry setup
 * (NodeSDK, or its own provider): the session processor (stamps the session on every span) and a
 * bounded batch processor with the OTLP/HTTP exporter. Then wrap calls with `instrument()`.
 *
 * @example
 * const sdk = new NodeSDK({ spanProcessors: harnessMeterSpanProcessors({ endpoint }) });
 * sdk.start();
 * const hm = instrument({ tracerProvider: trace.getTracerProvider() });
 */
export function harnessMeterSpanProcessors(options: SpanProcessorOptions = {}): SpanProcessor[] {
  const report = reporter(options.onError);
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
  return [
    new SessionSpanProcessor(),
    new BatchSpanProcessor(exporter, {
      maxQueueSize,
      maxExportBatchSize: Math.min(TELEMETRY_DEFAULTS.maxExportBatchSize, maxQueueSize),
      scheduledDelayMillis: TELEMETRY_DEFAULTS.scheduledDelayMillis,
      exportTimeoutMillis: timeout,
    }),
  ];
}

/**
 * The wrappers (`withSession`, `llmCall`, `toolCall`, …) on a tracer provider the harness already
 * runs: no provider, exporter or global registration of ours. Add `SessionSpanProcessor` (or
 * `harnessMeterSpanProcessors()`) to that provider so every span carries the session.
 *
 * @example
 * const hm = instrument({ tracerProvider: myProvider });
 */
export function instrument(options: HarnessTracerOptions = {}): HarnessTracer {
  return createHarnessTracer(options);
}

function reporter(userReport: ((e: unknown) => void) | undefined): (e: unknown) => void {
  return (e) => {
    try {
      if (userReport) userReport(e);
      else diag.warn('harness-meter: telemetry error', e);
    } catch {
      // never let telemetry break the harness
    }
  };
}

/**
 * Starts telemetry for a harness: an OpenTelemetry Node tracer provider (AsyncLocalStorage
 * context, W3C propagation, registered as the global provider when none is), the OTLP/HTTP (JSON)
 * trace exporter behind a bounded batch span processor, and the session processor that stamps the
 * session on every span. Traces only: no metrics reader and no log exporter. Resource:
 * service.name, harness_meter.source='sdk', your `resourceAttributes` (these win),
 * OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, host and OS (not the process command line, which
 * may hold secrets). Call once at start, and `await shutdown()` before exit. A harness that runs
 * its own OpenTelemetry uses `instrument()` and `harnessMeterSpanProcessors()` instead.
 *
 * @example
 * const hm = startTelemetry({ serviceName: 'my-harness' });
 * await hm.withSession({ agentName: 'coder', developer: 'ana', repositoryUrl, branch }, () => agentLoop(hm));
 * await hm.shutdown();
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const report = reporter(options.onError);
  let processors: SpanProcessor[] = [];
  let provider: NodeTracerProvider | undefined;
  try {
    processors = options.spanProcessors
      ? [new SessionSpanProcessor(), ...options.spanProcessors]
      : harnessMeterSpanProcessors({ ...options, onError: report });
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
    provider = new NodeTracerProvider({
      resource,
      spanProcessors: processors,
      ...(options.idGenerator ? { idGenerator: options.idGenerator } : {}),
    });
    // Global provider, context manager and propagator; when the harness registered its own
    // first, ours stays private and our spans still reach our exporter (the tracer below is ours).
    provider.register();
  } catch (e) {
    report(e);
  }
  const wrappers = createHarnessTracer({
    ...(provider
      ? { tracer: provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION) }
      : {}),
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
          await provider?.shutdown();
        } catch (e) {
          report(e);
        }
      })();
      return stopped;
    },
  };
}
