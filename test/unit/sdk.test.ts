import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
  fromAnthropicUsage,
  fromOpenAIUsage,
  normalizeUsage,
  redact,
  SessionSpanProcessor,
  startTelemetry,
  type HarnessTracer,
} from '@harness-meter/instrumentation';

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let hm: HarnessTracer;

beforeAll(() => {
  // What NodeSDK (startTelemetry) or NodeTracerProvider.register() installs in a real harness.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({
    spanProcessors: [new SessionSpanProcessor(), new SimpleSpanProcessor(exporter)],
  });
  hm = createHarnessTracer({ tracer: provider.getTracer('test') });
});
afterEach(async () => {
  await provider.shutdown();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const byName = (name: string): ReadableSpan => {
  const s = spans().find((x) => x.name === name);
  if (!s)
    throw new Error(
      `no span ${name}; have ${spans()
        .map((x) => x.name)
        .join(', ')}`,
    );
  return s;
};

describe('provider usage → GenAI conventions (input includes cache)', () => {
  it('Anthropic: input_tokens excludes cache, so cache reads and writes are added', () => {
    expect(
      fromAnthropicUsage({
        input_tokens: 100,
        output_tokens: 50,
        cache_read_input_tokens: 800,
        cache_creation_input_tokens: 300,
        cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
      }),
    ).toEqual({
      inputTokens: 1200,
      outputTokens: 50,
      cacheReadTokens: 800,
      cacheCreationTokens: 300,
      cacheCreation5mTokens: 200,
      cacheCreation1hTokens: 100,
    });
  });
  it('OpenAI chat and responses: input already includes cached tokens; reasoning is inside output', () => {
    expect(
      fromOpenAIUsage({
        prompt_tokens: 1000,
        completion_tokens: 300,
        prompt_tokens_details: { cached_tokens: 600 },
        completion_tokens_details: { reasoning_tokens: 200 },
      }),
    ).toEqual({ inputTokens: 1000, outputTokens: 300, cacheReadTokens: 600, reasoningTokens: 200 });
    expect(
      normalizeUsage({
        input_tokens: 1000,
        output_tokens: 300,
        input_tokens_details: { cached_tokens: 600 },
        output_tokens_details: { reasoning_tokens: 200 },
      }),
    ).toEqual({ inputTokens: 1000, outputTokens: 300, cacheReadTokens: 600, reasoningTokens: 200 });
    expect(normalizeUsage('nope')).toBeUndefined();
  });
});

describe('spans the wrappers make', () => {
  it('session, LLM call and tool call: names, kinds, attributes; the session context is on every span', async () => {
    await hm.withSession(
      {
        sessionId: 's-1',
        agentName: 'coder',
        developer: 'ana',
        email: 'ana@acme.dev',
        team: 'payments',
        repositoryUrl: 'https://github.com/acme/api.git',
        branch: 'fix/a',
        pr: 12,
        intent: 'fix',
      },
      async (session) => {
        await hm.llmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5' }, async () => ({
          id: 'msg_1',
          model: 'claude-sonnet-4-5-20250929',
          stop_reason: 'tool_use',
          usage: {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_input_tokens: 100,
            cache_creation_input_tokens: 20,
          },
        }));
        await hm.toolCall(
          { name: 'Read', callId: 'toolu_1', args: { file_path: './src//a.ts' } },
          async () => 'hello world!',
        );
        provider.getTracer('raw').startSpan('raw span').end(); // another instrumentation's span inside the session
        session.update({ branch: 'fix/b', pr: 13 });
        hm.toolCall({ name: 'Bash', args: { command: 'npm   test' } }, () => 'ok');
      },
    );
    const agent = byName('invoke_agent coder');
    expect(agent.kind).toBe(0); // INTERNAL
    expect(agent.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'coder',
      'gen_ai.conversation.id': 's-1',
    });
    const llm = byName('chat claude-sonnet-4-5');
    expect(llm.kind).toBe(2); // CLIENT
    expect(llm.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4-5',
      'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
      'gen_ai.response.id': 'msg_1',
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.input_tokens': 130,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.cache_creation.input_tokens': 20,
      'gen_ai.conversation.id': 's-1',
      'user.id': 'ana',
      'user.email': 'ana@acme.dev',
      'harness_meter.team': 'payments',
      'vcs.repository.url.full': 'https://github.com/acme/api.git',
      'vcs.repository.name': 'api',
      'vcs.ref.head.name': 'fix/a',
      'vcs.change.id': '12',
      'harness_meter.task.intent': 'fix',
    });
    const read = byName('execute_tool Read');
    expect(read.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'Read',
      'gen_ai.tool.call.id': 'toolu_1',
      'harness_meter.tool.class': 'read',
      'harness_meter.tool.result_bytes': 12,
      'harness_meter.tool.result_tokens': 3,
    });
    expect(read.attributes['harness_meter.tool.args_hash']).toMatch(/^[0-9a-f]{64}$/);
    expect(read.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
    expect(byName('raw span').attributes).toMatchObject({
      'gen_ai.conversation.id': 's-1',
      'vcs.ref.head.name': 'fix/a',
    });
    expect(byName('execute_tool Bash').attributes).toMatchObject({
      'harness_meter.tool.class': 'exec',
      'vcs.ref.head.name': 'fix/b',
      'vcs.change.id': '13',
    });
  });

  it('hashes normalized arguments: key order, paths and whitespace do not matter; ranges do', () => {
    const hashOf = (args: unknown): unknown => {
      exporter.reset();
      hm.toolCall({ name: 'Read', args }, () => '');
      return spans()[0]?.attributes['harness_meter.tool.args_hash'];
    };
    const a = hashOf({ file_path: 'src/a.ts', offset: 1, limit: 50 });
    expect(hashOf({ limit: 50, offset: 1, file_path: './src//a.ts' })).toBe(a);
    expect(hashOf({ file_path: 'src/a.ts', offset: 51, limit: 50 })).not.toBe(a);
    expect(hashOf({ command: 'npm  test ' })).toBe(hashOf({ command: 'npm test' }));
  });

  it('checks a call against the session before it runs, with the same rules as the pipeline', async () => {
    await hm.withSession({ sessionId: 's-3' }, async () => {
      const read = { name: 'Read', args: { file_path: 'src/a.ts' } };
      expect(hm.checkRedundancy(read)).toBeUndefined();
      await hm.toolCall({ ...read, callId: 'toolu_1' }, async () => 'contents');
      expect(hm.checkRedundancy(read)).toEqual({ kind: 're_read', repeatsCallId: 'toolu_1' });
      expect(
        hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/a.ts', offset: 5, limit: 10 } }),
      ).toEqual({ kind: 're_read', repeatsCallId: 'toolu_1' });
      hm.toolCall(
        { name: 'Edit', args: { file_path: 'src/a.ts', old_string: 'a', new_string: 'b' } },
        () => 'ok',
      );
      expect(hm.checkRedundancy(read)).toBeUndefined();
      await expect(
        hm.toolCall({ name: 'Bash', callId: 'toolu_2', args: { command: 'npm test' } }, async () =>
          Promise.reject(new Error('exit 1')),
        ),
      ).rejects.toThrow('exit 1');
      expect(hm.checkRedundancy({ name: 'Bash', args: { command: 'npm  test' } })).toEqual({
        kind: 'retry_loop',
        repeatsCallId: 'toolu_2',
      });
      hm.markCompaction();
      hm.toolCall({ name: 'Read', args: { file_path: 'src/b.ts' } }, () => 'b');
      expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/b.ts' } })?.kind).toBe(
        're_read',
      );
    });
    expect(hm.checkRedundancy({ name: 'Read', args: { file_path: 'src/b.ts' } })).toBeUndefined(); // outside a session
  });

  it('records read ranges and marks compactions', () => {
    hm.withSession({ sessionId: 's-2' }, () => {
      hm.toolCall({ name: 'Read', args: { file_path: 'a.ts', offset: 10, limit: 20 } }, () => 'x');
      hm.toolCall(
        { name: 'read_file', args: { path: 'b.ts', start_line: 5, end_line: 9 } },
        () => 'y',
      );
      hm.markCompaction();
    });
    expect(byName('execute_tool Read').attributes).toMatchObject({
      'harness_meter.tool.range.start': 10,
      'harness_meter.tool.range.end': 29,
    });
    expect(byName('execute_tool read_file').attributes).toMatchObject({
      'harness_meter.tool.range.start': 5,
      'harness_meter.tool.range.end': 9,
    });
    expect(byName('context_compaction').attributes).toMatchObject({
      'harness_meter.context.compaction': 'true',
      'gen_ai.conversation.id': 's-2',
    });
  });

  it('keeps raw arguments and results off spans by default; with capture on, redacts secrets', () => {
    const args = {
      command: 'curl -H "Authorization: Bearer abcdefghijklmnop123" https://x',
      env: 'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz',
    };
    hm.toolCall(
      { name: 'Bash', args },
      () => 'password=hunter22 token: ghp_abcdefghijklmnopqrstuvwxyz0123',
    );
    const plain = spans()[0]!;
    expect(plain.attributes['gen_ai.tool.call.arguments']).toBeUndefined();
    expect(plain.attributes['gen_ai.tool.call.result']).toBeUndefined();
    expect(JSON.stringify(plain.attributes)).not.toContain('hunter22');

    exporter.reset();
    const capturing = createHarnessTracer({
      tracer: provider.getTracer('test'),
      captureContent: true,
    });
    capturing.toolCall(
      { name: 'Bash', args },
      () => 'password=hunter22 token: ghp_abcdefghijklmnopqrstuvwxyz0123',
    );
    const captured = spans()[0]!.attributes;
    expect(String(captured['gen_ai.tool.call.arguments'])).toContain('[REDACTED]');
    expect(String(captured['gen_ai.tool.call.arguments'])).not.toContain('sk-proj-');
    expect(String(captured['gen_ai.tool.call.arguments'])).not.toContain('abcdefghijklmnop123');
    expect(String(captured['gen_ai.tool.call.result'])).toBe(
      'password=[REDACTED] token: [REDACTED]',
    );
    expect(redact('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----')).toBe(
      '[REDACTED]',
    );
  });

  it('a throwing tool call ends its span with ERROR and rethrows the same error', async () => {
    const boom = new RangeError('disk on fire');
    await expect(
      hm.toolCall({ name: 'Write', args: { path: 'a' } }, async () => Promise.reject(boom)),
    ).rejects.toBe(boom);
    expect(() =>
      hm.toolCall({ name: 'Write' }, () => {
        throw boom;
      }),
    ).toThrow(boom);
    for (const s of spans()) {
      expect(s.status.code).toBe(2);
      expect(s.attributes['error.type']).toBe('RangeError');
      expect(s.events.some((e) => e.name === 'exception')).toBe(true);
    }
    expect(spans()).toHaveLength(2);
  });

  it('marks a result the harness calls an error', () => {
    hm.toolCall({ name: 'Bash', args: { command: 'false' } }, () => ({ exitCode: 1 }), {
      isError: (r) => r.exitCode !== 0,
    });
    expect(spans()[0]?.attributes).toMatchObject({
      'harness_meter.tool.error': 'true',
      'error.type': 'tool_error',
    });
  });

  it('telemetry failures never reach the harness', () => {
    const errors: unknown[] = [];
    const quiet = createHarnessTracer({
      tracer: provider.getTracer('test'),
      onError: (e) => errors.push(e),
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(quiet.toolCall({ name: 'Read', args: circular }, () => circular)).toBe(circular);
    expect(
      quiet.llmCall({ provider: 'openai', model: 'gpt-4o' }, () => ({ usage: 'garbage' })),
    ).toEqual({ usage: 'garbage' });
    expect(errors.length).toBeGreaterThan(0);
    expect(spans()).toHaveLength(2);
  });
});

describe('startTelemetry', () => {
  it('exports over OTLP/HTTP to a local server on shutdown', async () => {
    const received: { path: string; type: string; bytes: number }[] = [];
    const server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: String(req.headers['content-type']), bytes });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const tel = startTelemetry({
      serviceName: 't',
      endpoint: `http://127.0.0.1:${port}/v1/traces`,
    });
    tel.withSession({ developer: 'ana' }, () =>
      tel.toolCall({ name: 'Read', args: { path: 'a' } }, () => 'x'),
    );
    await tel.shutdown();
    await new Promise<void>((r) => server.close(() => r()));
    expect(received.length).toBeGreaterThan(0);
    expect(received[0]).toMatchObject({ path: '/v1/traces', type: 'application/json' });
    expect(received[0]!.bytes).toBeGreaterThan(100);
  });
});
