import { describe, expect, it } from 'vitest';
import type { Span, Tracer } from '@opentelemetry/api';
import {
  createHarnessTracer,
  canonicalJson,
  sha256Hex,
  type HarnessTracer,
} from '@harness-meter/instrumentation';
import {
  byName,
  exporter,
  hm,
  provider,
  spans,
  tick,
  useTestTracer,
} from '../helpers/sdk-tracer.js';

useTestTracer();

const SESSION = {
  sessionId: 's-1',
  agentName: 'coder',
  developer: 'ana',
  email: 'ana@acme.dev',
  team: 'payments',
  repositoryUrl: 'https://github.com/acme/api.git',
  branch: 'fix/a',
  commit: '0123abcd',
  pr: 12,
  intent: 'fix',
};
const SESSION_ATTRS = {
  'gen_ai.conversation.id': 's-1',
  'user.id': 'ana',
  'user.email': 'ana@acme.dev',
  'harness_meter.team': 'payments',
  'vcs.repository.url.full': 'https://github.com/acme/api.git',
  'vcs.repository.name': 'api',
  'vcs.ref.head.name': 'fix/a',
  'vcs.ref.head.revision': '0123abcd',
  'vcs.change.id': '12',
  'harness_meter.task.intent': 'fix',
};

describe('spans the wrappers make: names, kinds, exact attributes', () => {
  it('invoke_agent, chat and execute_tool spans, parented, with exactly the documented attributes', async () => {
    await hm.withSession(SESSION, async () => {
      await hm.llmCall({ provider: 'anthropic', model: 'claude-sonnet-4-5' }, async () => ({
        id: 'msg_1',
        type: 'message',
        model: 'claude-sonnet-4-5-20250929',
        stop_reason: 'tool_use',
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 20,
          cache_creation: { ephemeral_5m_input_tokens: 15, ephemeral_1h_input_tokens: 5 },
        },
      }));
      await hm.toolCall(
        { name: 'Read', callId: 'toolu_1', type: 'function', args: { file_path: './src//a.ts' } },
        async () => 'hello world!',
      );
    });
    expect(spans().map((s) => s.name)).toEqual([
      'chat claude-sonnet-4-5',
      'execute_tool Read',
      'invoke_agent coder',
    ]);

    const agent = byName('invoke_agent coder');
    expect(agent.kind).toBe(0); // INTERNAL
    expect(agent.status.code).toBe(0);
    expect(agent.attributes).toEqual({
      ...SESSION_ATTRS,
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'coder',
    });

    const llm = byName('chat claude-sonnet-4-5');
    expect(llm.kind).toBe(2); // CLIENT
    expect(llm.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
    expect(llm.attributes).toEqual({
      ...SESSION_ATTRS,
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
      'harness_meter.usage.cache_creation_5m.input_tokens': 15,
      'harness_meter.usage.cache_creation_1h.input_tokens': 5,
    });

    const read = byName('execute_tool Read');
    expect(read.kind).toBe(0); // INTERNAL
    expect(read.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
    // Read's schema: the identity is the resolved path and its line range (2,000 lines by default);
    // the one-line result shows the file ended, so the read covered it whole (range.start only).
    const args = canonicalJson({ op: 'read', path: 'src/a.ts', start: 1, end: 2000 });
    expect(read.attributes).toEqual({
      ...SESSION_ATTRS,
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'Read',
      'gen_ai.tool.call.id': 'toolu_1',
      'gen_ai.tool.type': 'function',
      'harness_meter.tool.class': 'read',
      'harness_meter.tool.args_hash': sha256Hex(args),
      'harness_meter.tool.args_bytes': args.length,
      'harness_meter.tool.target_hash': sha256Hex('src/a.ts'),
      'harness_meter.tool.range.start': 1,
      'harness_meter.tool.result_bytes': 12,
      'harness_meter.tool.result_tokens': 3,
      'harness_meter.tool.result_hash': sha256Hex('hello world!'),
    });
  });

  it('operation and span name follow the request; no session, no session attributes', () => {
    hm.llmCall(
      { provider: 'openai', model: 'text-embedding-3-small', operation: 'embeddings' },
      () => ({
        object: 'list',
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 8, total_tokens: 8 },
      }),
    );
    const s = byName('embeddings text-embedding-3-small');
    expect(s.attributes).toEqual({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'text-embedding-3-small',
      'gen_ai.response.model': 'text-embedding-3-small',
      'gen_ai.usage.input_tokens': 8,
      'gen_ai.usage.output_tokens': 0,
      'gen_ai.usage.cache_read.input_tokens': 0,
    });
  });

  it('reads OpenAI chat and Responses API results (cached and reasoning tokens)', async () => {
    await hm.llmCall({ provider: 'openai', model: 'gpt-4o' }, async () => ({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o-2024-08-06',
      choices: [{ index: 0, finish_reason: 'tool_calls' }],
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 300,
        total_tokens: 1300,
        prompt_tokens_details: { cached_tokens: 600 },
        completion_tokens_details: { reasoning_tokens: 200 },
      },
    }));
    hm.llmCall({ provider: 'openai', model: 'o4-mini' }, () => ({
      id: 'resp_1',
      object: 'response',
      model: 'o4-mini-2025-04-16',
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      usage: {
        input_tokens: 2000,
        output_tokens: 500,
        total_tokens: 2500,
        input_tokens_details: { cached_tokens: 1500 },
        output_tokens_details: { reasoning_tokens: 450 },
      },
    }));
    expect(byName('chat gpt-4o').attributes).toMatchObject({
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.finish_reasons': ['tool_calls'],
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 300,
      'gen_ai.usage.cache_read.input_tokens': 600,
      'gen_ai.usage.reasoning.output_tokens': 200,
    });
    expect(byName('chat o4-mini').attributes).toMatchObject({
      'gen_ai.response.id': 'resp_1',
      'gen_ai.response.model': 'o4-mini-2025-04-16',
      'gen_ai.response.finish_reasons': ['max_output_tokens'],
      'gen_ai.usage.input_tokens': 2000,
      'gen_ai.usage.output_tokens': 500,
      'gen_ai.usage.cache_read.input_tokens': 1500,
      'gen_ai.usage.reasoning.output_tokens': 450,
    });
    expect(
      byName('chat o4-mini').attributes['gen_ai.usage.cache_creation.input_tokens'],
    ).toBeUndefined();
  });

  it('streaming: usage recorded on the handle wins; a usage option reads it from anywhere', async () => {
    const out = await hm.llmCall(
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
      async (llm) => {
        await tick();
        llm.recordResponse({
          type: 'message',
          id: 'msg_s',
          model: 'claude-haiku-4-5',
          stop_reason: 'end_turn',
        });
        llm.recordUsage({ input_tokens: 3, output_tokens: 7, cache_read_input_tokens: 40 });
        return { usage: { input_tokens: 999, output_tokens: 999 }, text: 'streamed' };
      },
    );
    expect(out.text).toBe('streamed');
    expect(byName('chat claude-haiku-4-5').attributes).toMatchObject({
      'gen_ai.response.id': 'msg_s',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': 43,
      'gen_ai.usage.output_tokens': 7,
    });

    exporter.reset();
    hm.llmCall({ provider: 'acme', model: 'local' }, () => ({ meta: { tokens: [5, 6] } }), {
      usage: (r) => ({ inputTokens: r.meta.tokens[0], outputTokens: r.meta.tokens[1] }),
    });
    expect(byName('chat local').attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 6,
    });
  });

  it('reads response facts only from what looks like a provider response', () => {
    hm.llmCall({ provider: 'acme', model: 'm' }, () => ({ id: 'row-17', model: 'not-a-response' }));
    const attrs = byName('chat m').attributes;
    expect(attrs['gen_ai.response.id']).toBeUndefined();
    expect(attrs['gen_ai.response.model']).toBeUndefined();
  });

  it('returns what fn returns: a plain value for sync fn, a promise for async fn', async () => {
    const sync = hm.toolCall({ name: 'Read', args: { path: 'a' } }, () => 42);
    expect(sync).toBe(42);
    const pending = hm.toolCall({ name: 'Read', args: { path: 'b' } }, async () => 43);
    expect(pending).toBeInstanceOf(Promise);
    expect(spans()).toHaveLength(1); // the async span ends when the promise settles
    await expect(pending).resolves.toBe(43);
    expect(spans()).toHaveLength(2);
  });
});

describe('session context on every span', () => {
  it('stamps every span in the session, including spans of other instrumentations and after awaits', async () => {
    const raw: Tracer = provider.getTracer('some-http-instrumentation');
    await hm.withSession(SESSION, async () => {
      raw.startSpan('raw before').end();
      await tick();
      await hm.toolCall({ name: 'Grep', args: { pattern: 'TODO' } }, async () => {
        await tick();
        raw.startSpan('GET /api (nested in the tool call)').end();
        return '';
      });
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          raw.startSpan('raw in a timer').end();
          resolve();
        }, 1),
      );
      hm.markCompaction();
    });
    raw.startSpan('outside the session').end();

    const inside = spans().filter((s) => s.name !== 'outside the session');
    expect(inside).toHaveLength(6);
    for (const s of inside) expect(s.attributes, s.name).toMatchObject(SESSION_ATTRS);
    expect(byName('outside the session').attributes).toEqual({});
    const tool = byName('execute_tool Grep');
    expect(byName('GET /api (nested in the tool call)').parentSpanContext?.spanId).toBe(
      tool.spanContext().spanId,
    );
  });

  it('update(): spans started after a branch / PR / commit change carry the new values', () => {
    hm.withSession(SESSION, (session) => {
      hm.toolCall({ name: 'Bash', args: { command: 'git checkout -b fix/b' } }, () => 'ok');
      session.update({ branch: 'fix/b', pr: '#13', commit: 'fedcba98' });
      hm.toolCall({ name: 'Bash', args: { command: 'gh pr create' } }, () => 'ok');
      provider.getTracer('raw').startSpan('raw after update').end();
      session.update({ intent: 'review' });
      hm.llmCall({ provider: 'openai', model: 'gpt-4o' }, () => ({ usage: { prompt_tokens: 1 } }));
    });
    const [before, after] = spans().filter((s) => s.name === 'execute_tool Bash');
    expect(before?.attributes).toMatchObject({
      'vcs.ref.head.name': 'fix/a',
      'vcs.change.id': '12',
    });
    expect(after?.attributes).toMatchObject({
      'vcs.ref.head.name': 'fix/b',
      'vcs.change.id': '13',
      'vcs.ref.head.revision': 'fedcba98',
      'harness_meter.task.intent': 'fix',
    });
    expect(byName('raw after update').attributes).toMatchObject({ 'vcs.change.id': '13' });
    expect(byName('chat gpt-4o').attributes).toMatchObject({
      'vcs.ref.head.name': 'fix/b',
      'harness_meter.task.intent': 'review',
    });
    // The session span itself was started before the updates.
    expect(byName('invoke_agent coder').attributes['vcs.ref.head.name']).toBe('fix/a');
  });

  it('generates a session id; strips credentials from the repository URL; scp-style names', () => {
    let id = '';
    hm.withSession(
      {
        repositoryUrl: 'https://x-access-token:ghs_abcdefghijklmnopqrstuv@github.com/acme/api.git',
      },
      (s) => {
        id = s.id;
        expect(hm.currentSession()?.id).toBe(id);
      },
    );
    hm.withSession({ repositoryUrl: 'git@github.com:acme/web.git', pr: 3.5 }, () => undefined);
    expect(hm.currentSession()).toBeUndefined();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [first, second] = spans();
    expect(first?.name).toBe('invoke_agent');
    expect(first?.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.conversation.id': id,
      'vcs.repository.url.full': 'https://github.com/acme/api.git',
      'vcs.repository.name': 'api',
    });
    expect(second?.attributes).toMatchObject({
      'vcs.repository.url.full': 'git@github.com:acme/web.git',
      'vcs.repository.name': 'web',
    });
    expect(second?.attributes['vcs.change.id']).toBeUndefined(); // not an integer
  });

  it('nested sessions: the inner one wins inside it, the outer one again after it', () => {
    hm.withSession({ sessionId: 'outer', agentName: 'lead' }, () => {
      hm.withSession({ sessionId: 'inner', agentName: 'sub' }, () =>
        hm.toolCall({ name: 'Read', args: { path: 'x' } }, () => 'x'),
      );
      hm.toolCall({ name: 'Read', args: { path: 'y' } }, () => 'y');
    });
    const reads = spans().filter((s) => s.name === 'execute_tool Read');
    expect(reads.map((s) => s.attributes['gen_ai.conversation.id'])).toEqual(['inner', 'outer']);
    expect(byName('invoke_agent sub').parentSpanContext?.spanId).toBe(
      byName('invoke_agent lead').spanContext().spanId,
    );
  });
});

describe('tool calls: classes, hashes, sizes', () => {
  const attrsOf = (request: Parameters<HarnessTracer['toolCall']>[0], result: unknown = '') => {
    exporter.reset();
    hm.toolCall(request, () => result);
    const s = spans()[0];
    if (!s) throw new Error('no span');
    return s.attributes;
  };

  it('classifies tools by a built-in name map, else other; an explicit class wins', () => {
    const cases: [string, string][] = [
      ['Read', 'read'],
      ['read_file', 'read'],
      ['Write', 'write'],
      ['Edit', 'write'],
      ['MultiEdit', 'write'],
      ['write_file', 'write'],
      ['edit_file', 'write'],
      ['Grep', 'search'],
      ['Glob', 'search'],
      ['LS', 'search'],
      ['search', 'search'],
      ['grep', 'search'],
      ['list_dir', 'search'],
      ['Bash', 'exec'],
      ['shell', 'exec'],
      ['run_command', 'exec'],
      ['WebFetch', 'fetch'],
      ['fetch', 'fetch'],
      ['mcp__github__create_issue', 'other'],
      ['TodoWrite', 'other'],
    ];
    for (const [name, cls] of cases)
      expect(attrsOf({ name })['harness_meter.tool.class'], name).toBe(cls);
    expect(attrsOf({ name: 'TodoWrite', toolClass: 'write' })['harness_meter.tool.class']).toBe(
      'write',
    );
  });

  it('hashes normalized arguments: key order, paths and whitespace do not matter; ranges do', () => {
    const hashOf = (args: unknown): unknown =>
      attrsOf({ name: 'Read', args })['harness_meter.tool.args_hash'];
    const a = hashOf({ file_path: 'src/a.ts', offset: 1, limit: 50 });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf({ limit: 50, offset: 1, file_path: './src//a.ts' })).toBe(a);
    expect(hashOf({ limit: 50, offset: 1, file_path: 'src/lib/../a.ts' })).toBe(a);
    expect(hashOf({ file_path: 'src/a.ts', offset: 51, limit: 50 })).not.toBe(a);
    expect(hashOf({ file_path: 'src/a.ts', offset: 1, limit: 60 })).not.toBe(a);
    expect(hashOf({ file_path: 'src/b.ts', offset: 1, limit: 50 })).not.toBe(a);
    expect(hashOf({ command: '  npm   test\n' })).toBe(hashOf({ command: 'npm test' }));
    expect(hashOf({ command: 'npm test -- a' })).not.toBe(hashOf({ command: 'npm test' }));
    expect(hashOf({ q: { b: 1, a: [2, 1] } })).toBe(hashOf({ q: { a: [2, 1], b: 1 } }));
    expect(hashOf({ q: { b: 1, a: [2, 1] } })).not.toBe(hashOf({ q: { a: [1, 2], b: 1 } }));
  });

  it('target hash: from args (path, pattern, command, url) or an explicit target, normalized alike', () => {
    const target = (request: Parameters<HarnessTracer['toolCall']>[0]): unknown =>
      attrsOf(request)['harness_meter.tool.target_hash'];
    expect(target({ name: 'Read', args: { file_path: './src//a.ts', offset: 5 } })).toBe(
      sha256Hex('src/a.ts'),
    );
    expect(target({ name: 'Read', target: 'src/./a.ts' })).toBe(sha256Hex('src/a.ts'));
    // Known searches: the target is the scope their result depends on (their identity is the args
    // hash); a relative scope with no working directory known is "any write" (content:*)
    expect(target({ name: 'Grep', args: { pattern: 'TODO  x', path: '/r/src/' } })).toBe(
      sha256Hex('content:/r/src'),
    );
    expect(target({ name: 'Grep', args: { pattern: 'TODO  x', path: 'src' } })).toBe(
      sha256Hex('content:*'),
    );
    expect(target({ name: 'Grep', target: 'TODO  x', args: { pattern: 'TODO  x' } })).toBe(
      sha256Hex('TODO x'),
    );
    expect(target({ name: 'Bash', args: { command: 'npm  test', description: 'Run' } })).toBe(
      target({ name: 'Bash', args: { command: 'npm test' } }),
    );
    expect(target({ name: 'WebFetch', args: { url: 'https://x.dev/a', prompt: 'a' } })).not.toBe(
      target({ name: 'WebFetch', args: { url: 'https://x.dev/a', prompt: 'b' } }),
    );
    expect(target({ name: 'mcp__acme__frobnicate', args: { path: 'a' } })).toBe(sha256Hex('a'));
    expect(target({ name: 'Custom', args: { n: 1 } })).toBeUndefined();
  });

  it('result size: UTF-8 bytes of strings as they are, other values as JSON; tokens estimated at 4 bytes', () => {
    const r1 = attrsOf({ name: 'Read' }, 'héllo wörld');
    expect(r1['harness_meter.tool.result_bytes']).toBe(13);
    expect(r1['harness_meter.tool.result_tokens']).toBe(4);
    expect(r1['harness_meter.tool.result_hash']).toBe(sha256Hex('héllo wörld'));
    const r2 = attrsOf({ name: 'Glob' }, { files: ['a.ts', 'b.ts'] });
    expect(r2['harness_meter.tool.result_bytes']).toBe('{"files":["a.ts","b.ts"]}'.length);
    expect(r2['harness_meter.tool.result_tokens']).toBe(7);
    const r3 = attrsOf({ name: 'Write' }, undefined);
    expect(r3['harness_meter.tool.result_bytes']).toBe(0);
    expect(r3['harness_meter.tool.result_tokens']).toBe(0);
  });
});

describe('failures', () => {
  it('a throwing tool call ends its span with ERROR and rethrows the same error object', async () => {
    const boom = new RangeError('disk on fire');
    await expect(
      hm.toolCall({ name: 'Write', args: { path: 'a' } }, async () => Promise.reject(boom)),
    ).rejects.toBe(boom);
    let caught: unknown;
    try {
      hm.toolCall({ name: 'Write' }, () => {
        throw boom;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(boom);
    expect(spans()).toHaveLength(2);
    for (const s of spans()) {
      expect(s.status.code).toBe(2);
      expect(s.attributes['error.type']).toBe('RangeError');
      expect(s.attributes['harness_meter.tool.error']).toBe('true');
      expect(s.attributes['harness_meter.tool.result_bytes']).toBeUndefined();
      const ex = s.events.find((e) => e.name === 'exception');
      expect(ex?.attributes?.['exception.message']).toBe('disk on fire');
      expect(ex?.attributes?.['exception.type']).toBe('RangeError');
    }
  });

  it('non-Error throws and system errors: rethrown as is; error.type _OTHER or the code', () => {
    expect(() =>
      hm.llmCall({ provider: 'openai', model: 'gpt-4o' }, () => {
        throw 'rate limited'; // eslint-disable-line @typescript-eslint/only-throw-error
      }),
    ).toThrow('rate limited');
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(() =>
      hm.toolCall({ name: 'Read', args: { path: 'nope' } }, () => {
        throw enoent;
      }),
    ).toThrow(enoent);
    expect(byName('chat gpt-4o').attributes['error.type']).toBe('_OTHER');
    expect(byName('chat gpt-4o').status.code).toBe(2);
    expect(byName('execute_tool Read').attributes['error.type']).toBe('ENOENT');
  });

  it('a session whose function throws ends with ERROR and rethrows', async () => {
    const err = new TypeError('agent crashed');
    await expect(
      hm.withSession({ agentName: 'coder' }, async () => {
        await tick();
        throw err;
      }),
    ).rejects.toBe(err);
    expect(byName('invoke_agent coder').status.code).toBe(2);
    expect(byName('invoke_agent coder').attributes['error.type']).toBe('TypeError');
  });

  it('marks a result the harness calls an error', async () => {
    const r = await hm.toolCall(
      { name: 'Bash', args: { command: 'false' } },
      async () => ({ exitCode: 1 }),
      { isError: (res) => res.exitCode !== 0 },
    );
    expect(r).toEqual({ exitCode: 1 });
    hm.toolCall({ name: 'Bash', args: { command: 'true' } }, () => ({ exitCode: 0 }), {
      isError: (res) => res.exitCode !== 0,
    });
    const [failed, ok] = spans();
    expect(failed?.status.code).toBe(2);
    expect(failed?.attributes).toMatchObject({
      'harness_meter.tool.error': 'true',
      'error.type': 'tool_error',
      'harness_meter.tool.result_bytes': '{"exitCode":1}'.length,
    });
    expect(ok?.status.code).toBe(0);
    expect(ok?.attributes['harness_meter.tool.error']).toBeUndefined();
    expect(ok?.attributes['error.type']).toBeUndefined();
  });

  it('telemetry failures never reach the harness: circular values, failing hooks, a broken tracer', async () => {
    const errors: unknown[] = [];
    const quiet = createHarnessTracer({
      tracerProvider: provider,
      captureContent: true,
      onError: (e) => errors.push(e),
    });
    const circular: Record<string, unknown> = { path: 'a.ts' };
    circular.self = circular;
    expect(quiet.toolCall({ name: 'Read', args: circular }, () => circular)).toBe(circular);
    expect(
      quiet.llmCall({ provider: 'openai', model: 'gpt-4o' }, () => ({ usage: 'garbage' })),
    ).toEqual({ usage: 'garbage' });
    expect(
      quiet.toolCall({ name: 'Bash' }, () => 'out', {
        isError: () => {
          throw new Error('hook bug');
        },
      }),
    ).toBe('out');
    expect(
      quiet.llmCall({ provider: 'x', model: 'y' }, () => 1, {
        usage: () => {
          throw new Error('usage bug');
        },
      }),
    ).toBe(1);
    expect(quiet.toolCall({ name: 'Read', args: { n: 10n } }, () => 10n)).toBe(10n);
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(spans()).toHaveLength(5);
    for (const s of spans()) expect(s.status.code, s.name).toBe(0);
    // the circular call still got what could be computed
    expect(spans()[0]?.attributes).toMatchObject({
      'gen_ai.tool.name': 'Read',
      'harness_meter.tool.class': 'read',
      'harness_meter.tool.target_hash': sha256Hex('a.ts'),
    });

    const broken: Tracer = {
      startSpan(): Span {
        throw new Error('tracer broken');
      },
      startActiveSpan(): never {
        throw new Error('tracer broken');
      },
    };
    const throwingReporter = createHarnessTracer({
      tracer: broken,
      onError: () => {
        throw new Error('reporter broken too');
      },
    });
    await expect(
      throwingReporter.withSession({ agentName: 'a' }, async () =>
        throwingReporter.toolCall({ name: 'Read', args: { path: 'x' } }, async () => 'ok'),
      ),
    ).resolves.toBe('ok');
    expect(
      throwingReporter.llmCall({ provider: 'p', model: 'm' }, (llm) => {
        llm.recordUsage({ input_tokens: 1, output_tokens: 1 });
        return 'done';
      }),
    ).toBe('done');
    throwingReporter.markCompaction();
  });
});
