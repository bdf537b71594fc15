/**
 * The SDK's unit-test tracer: a fresh in-memory exporter, provider (with the SessionSpanProcessor)
 * and harness tracer before each test. The bindings are live: tests read the current ones.
 */
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  createHarnessTracer,
  SessionSpanProcessor,
  type HarnessTracer,
} from '@harness-meter/instrumentation';

export let exporter: InMemorySpanExporter;
export let provider: BasicTracerProvider;
export let hm: HarnessTracer;

/** Registers the hooks that make `exporter`, `provider` and `hm` fresh for every test. */
export function useTestTracer(): void {
  beforeAll(() => {
    // What NodeSDK (startTelemetry) or NodeTracerProvider.register() installs in a real harness.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({
      spanProcessors: [new SessionSpanProcessor(), new SimpleSpanProcessor(exporter)],
    });
    hm = createHarnessTracer({ tracerProvider: provider });
  });
  afterEach(async () => {
    await provider.shutdown();
  });
}

export const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
export const byName = (name: string): ReadableSpan => {
  const s = spans().find((x) => x.name === name);
  if (!s)
    throw new Error(
      `no span ${name}; have ${spans()
        .map((x) => x.name)
        .join(', ')}`,
    );
  return s;
};
export const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
