import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  harnessMeterSpanProcessors,
  instrument,
  startTelemetry,
} from '@harness-meter/instrumentation';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local OTLP/HTTP endpoint that records every request. */
async function startCollector(): Promise<{
  url: string;
  received: Received[];
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpJson {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { spans: { name: string; kind: number; attributes: OtlpKeyValue[] }[] }[];
  }[];
}
const attrMap = (kvs: OtlpKeyValue[]): Record<string, string | number | undefined> =>
  Object.fromEntries(kvs.map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue]));

const savedEnv = { ...process.env };
afterEach(() => {
  for (const k of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES'])
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
});

describe('startTelemetry', () => {
  it('exports OTLP/HTTP JSON to the endpoint on shutdown: resource, session spans, nothing but traces', async () => {
    const collector = await startCollector();
    // Anything NodeSDK would set up from OTEL_* defaults (metrics, logs) would land here too.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
    const tel = startTelemetry({
      serviceName: 'test-harness',
      endpoint: `${collector.url}/v1/traces`,
      headers: { authorization: 'Bearer local-test' },
      resourceAttributes: { 'deployment.environment': 'test' },
    });
    await tel.withSession(
      { sessionId: 'sess-http', agentName: 'coder', developer: 'ana', branch: 'main', pr: 5 },
      async () => {
        await tel.llmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5' }, async () => ({
          usage: { input_tokens: 10, output_tokens: 2, cache_read_input_tokens: 90 },
        }));
        tel.toolCall({ name: 'Read', args: { path: 'a.ts' } }, () => 'x');
        // Another instrumentation's span, through the global API NodeSDK registered.
        trace.getTracer('other-instrumentation').startSpan('GET /status').end();
      },
    );
    await tel.shutdown();
    await tel.shutdown(); // idempotent
    await collector.close();

    expect(collector.received.length).toBeGreaterThan(0);
    for (const r of collector.received) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/v1/traces');
      // exporter-trace-otlp-http 0.223 sends OTLP/JSON
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.authorization).toBe('Bearer local-test');
      expect(r.body.length).toBeGreaterThan(0);
    }
    const bodies = collector.received.map((r) => JSON.parse(r.body.toString('utf8')) as OtlpJson);
    const resources = bodies.flatMap((b) => b.resourceSpans);
    expect(attrMap(resources[0]!.resource.attributes)).toMatchObject({
      'service.name': 'test-harness',
      'harness_meter.source': 'sdk',
      'deployment.environment': 'test',
    });
    expect(attrMap(resources[0]!.resource.attributes)['process.command_args']).toBeUndefined();
    const exported = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(exported.map((s) => s.name).sort()).toEqual([
      'GET /status',
      'chat claude-sonnet-4-5',
      'execute_tool Read',
      'invoke_agent coder',
    ]);
    for (const s of exported)
      expect(attrMap(s.attributes), s.name).toMatchObject({
        'gen_ai.conversation.id': 'sess-http',
        'user.id': 'ana',
        'vcs.ref.head.name': 'main',
        'vcs.change.id': '5',
      });
    const llm = exported.find((s) => s.name === 'chat claude-sonnet-4-5')!;
    expect(llm.kind).toBe(3); // CLIENT in OTLP numbering
    expect(Number(attrMap(llm.attributes)['gen_ai.usage.input_tokens'])).toBe(100);
  });

  it('takes an exporter override; OTEL_SERVICE_NAME beats the default name, the option beats both', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'harness_meter.source=spoofed,team.region=eu';
    const memory = new InMemorySpanExporter();
    const tel = startTelemetry({ exporter: memory, captureContent: true });
    tel.toolCall(
      { name: 'Bash', args: { command: 'echo sk-proj-abcdefghijklmnop1234' } },
      () => '',
    );
    await tel.forceFlush();
    const [span] = memory.getFinishedSpans();
    expect(span?.resource.attributes).toMatchObject({
      'service.name': 'from-env',
      'harness_meter.source': 'sdk',
      'team.region': 'eu',
    });
    expect(span?.attributes['gen_ai.tool.call.arguments']).toBe('{"command":"echo [REDACTED]"}');
    await tel.shutdown();

    const memory2 = new InMemorySpanExporter();
    const named = startTelemetry({ exporter: memory2, serviceName: 'explicit' });
    named.toolCall({ name: 'Read' }, () => '');
    await named.forceFlush(); // (an in-memory exporter forgets its spans on shutdown)
    expect(memory2.getFinishedSpans()[0]?.resource.attributes['service.name']).toBe('explicit');
    await named.shutdown();
  });

  it('shutdown resolves (never rejects) when the endpoint is down; the failure goes to onError', async () => {
    const collector = await startCollector();
    await collector.close(); // nothing listens on this port any more
    const errors: unknown[] = [];
    const tel = startTelemetry({
      endpoint: `${collector.url}/v1/traces`,
      exportTimeoutMillis: 500,
      onError: (e) => errors.push(e),
    });
    expect(tel.toolCall({ name: 'Read', args: { path: 'a' } }, () => 'still works')).toBe(
      'still works',
    );
    const started = Date.now();
    await expect(tel.shutdown()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('instrument() puts the wrappers on a provider the harness already runs (no NodeSDK, no globals)', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const memory = new InMemorySpanExporter();
    const errors: unknown[] = [];
    const provider = new BasicTracerProvider({
      spanProcessors: harnessMeterSpanProcessors({
        exporter: memory,
        onError: (e) => errors.push(e),
      }),
    });
    const hm = instrument({ tracerProvider: provider });
    await hm.withSession(
      { sessionId: 'own-provider', agentName: 'coder', developer: 'bo' },
      async () => {
        await hm.llmCall({ provider: 'openai', model: 'gpt-4o' }, async () => ({
          usage: { prompt_tokens: 10, completion_tokens: 2 },
        }));
        provider.getTracer('harness-own').startSpan('plan step').end();
      },
    );
    await provider.forceFlush();
    const spans = memory.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'chat gpt-4o',
      'invoke_agent coder',
      'plan step',
    ]);
    // The session processor stamps the harness's own spans too.
    for (const s of spans)
      expect(s.attributes['gen_ai.conversation.id'], s.name).toBe('own-provider');
    expect(errors).toEqual([]);
    await provider.shutdown();
  });
});
