import { describe, expect, it } from 'vitest';
import { toSpanRecord, usdToNanos, type RawSpanParts } from '../../pipeline/src/decode/index.js';

/** toSpanRecord over string attributes, for the derivation rules. */
function derive(
  spanAttributes: Record<string, string>,
  resourceAttributes: Record<string, string> = {},
  statusCode = 0,
): { record: ReturnType<typeof toSpanRecord>; errors: string[] } {
  const raw: RawSpanParts = {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: '',
    name: 'x',
    kind: 1,
    startTimeUnixNano: 1n,
    endTimeUnixNano: 2n,
    statusCode,
    statusMessage: '',
    scopeName: 's',
    resourceAttributes,
    spanAttributes,
  };
  const errors: string[] = [];
  return { record: toSpanRecord(raw, errors), errors };
}

describe('toSpanRecord derivation', () => {
  it('classifies spans: llm by operation or by usage with a model; tool; agent; else other', () => {
    const type = (a: Record<string, string>): string => derive(a).record.spanType;
    expect(type({ 'gen_ai.operation.name': 'chat' })).toBe('llm');
    expect(type({ 'gen_ai.operation.name': 'text_completion' })).toBe('llm');
    expect(type({ 'gen_ai.operation.name': 'generate_content' })).toBe('llm');
    expect(type({ 'gen_ai.operation.name': 'embeddings' })).toBe('llm');
    expect(type({ 'gen_ai.usage.input_tokens': '10', 'gen_ai.request.model': 'm' })).toBe('llm');
    expect(
      type({
        'gen_ai.usage.completion_tokens': '0',
        'gen_ai.response.model': 'm',
      }),
    ).toBe('llm');
    expect(type({ 'gen_ai.usage.input_tokens': '10' })).toBe('other'); // no model
    expect(type({ 'gen_ai.operation.name': 'execute_tool' })).toBe('tool');
    expect(type({ 'gen_ai.tool.name': 'Grep' })).toBe('tool');
    expect(type({ 'gen_ai.operation.name': 'invoke_agent' })).toBe('agent');
    expect(type({ 'gen_ai.operation.name': 'create_agent' })).toBe('agent');
    expect(type({ 'gen_ai.operation.name': 'something_new' })).toBe('other');
    expect(type({})).toBe('other');
  });

  it('looks each field up on the span first, then the resource, with the documented fallbacks', () => {
    const { record } = derive(
      {
        'user.email': 'ana@acme.dev',
        'session.id': 'span-session',
        'vcs.repository.name': 'payments',
      },
      {
        'user.id': 'ana-id',
        'gen_ai.conversation.id': 'resource-conv',
        'vcs.repository.url.full': 'https://github.com/acme/payments',
        'gen_ai.system': 'anthropic',
        'service.name': 'svc',
        'vcs.change.id': '#42',
        'harness_meter.team': 't',
        'vcs.ref.head.revision': 'abc123',
      },
    );
    expect(record).toMatchObject({
      developer: 'ana@acme.dev', // user.email on the span beats user.id on the resource
      sessionId: 'span-session',
      repo: 'payments',
      provider: 'anthropic', // deprecated gen_ai.system
      serviceName: 'svc',
      pr: 42,
      team: 't',
      commit: 'abc123',
      source: 'otel',
    });
    expect(derive({ 'user.name': 'ana' }).record.developer).toBe('ana');
    expect(derive({ 'user.name': 'ana', 'user.id': 'u1' }).record.developer).toBe('u1');
    expect(derive({ 'gen_ai.provider.name': 'openai', 'gen_ai.system': 'x' }).record.provider).toBe(
      'openai',
    );
    expect(derive({ 'gen_ai.conversation.id': 'c', 'session.id': 's' }).record.sessionId).toBe('c');
    expect(derive({}, { 'session.id': 's' }).record.sessionId).toBe('s');
    expect(derive({ 'harness_meter.source': 'claude-code' }).record.source).toBe('claude-code');
  });

  it('parses the PR number from 42 or #42, else 0', () => {
    const pr = (v: string): number => derive({ 'vcs.change.id': v }).record.pr;
    expect(pr('42')).toBe(42);
    expect(pr('#42')).toBe(42);
    expect(pr('PR-42')).toBe(0);
    expect(pr('4.2')).toBe(0);
    expect(pr('')).toBe(0);
  });

  it('splits cache writes 5m/1h: total only → all 5m; split only → total is the sum', () => {
    const total = derive({
      'gen_ai.usage.cache_creation.input_tokens': '900',
    }).record;
    expect(total).toMatchObject({
      cacheWriteTokens: 900,
      cacheWrite5mTokens: 900,
      cacheWrite1hTokens: 0,
    });
    const split = derive({
      'harness_meter.usage.cache_creation_5m.input_tokens': '100',
      'harness_meter.usage.cache_creation_1h.input_tokens': '250',
    }).record;
    expect(split).toMatchObject({
      cacheWriteTokens: 350,
      cacheWrite5mTokens: 100,
      cacheWrite1hTokens: 250,
    });
    const only1h = derive({
      'harness_meter.usage.cache_creation_1h.input_tokens': '70',
    }).record;
    expect(only1h).toMatchObject({
      cacheWriteTokens: 70,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 70,
    });
    const none = derive({ 'gen_ai.operation.name': 'chat' }).record;
    expect(none).toMatchObject({
      cacheWriteTokens: 0,
      cacheWrite5mTokens: 0,
      cacheWrite1hTokens: 0,
    });
  });

  it('prefers the current usage names over the old ones, and accepts integral doubles', () => {
    const { record } = derive({
      'gen_ai.usage.input_tokens': '100',
      'gen_ai.usage.prompt_tokens': '999',
      'gen_ai.usage.completion_tokens': '20.0',
      'gen_ai.usage.reasoning.output_tokens': '1e+3',
    });
    expect(record).toMatchObject({
      inputTokens: 100,
      outputTokens: 20,
      reasoningTokens: 1000,
    });
  });

  it('reads tool fields; an unknown class is other, an absent one empty; errors from status, error.type or the tool flag', () => {
    const tool = derive({
      'gen_ai.tool.name': 'Grep',
      'gen_ai.tool.call.id': 'call_1',
      'harness_meter.tool.class': 'search',
      'harness_meter.tool.args_hash': 'h1',
      'harness_meter.tool.target_hash': 'h2',
      'harness_meter.tool.result_bytes': '10',
      'harness_meter.tool.result_tokens': '3',
    }).record;
    expect(tool).toMatchObject({
      spanType: 'tool',
      toolName: 'Grep',
      toolCallId: 'call_1',
      toolClass: 'search',
      argsHash: 'h1',
      targetHash: 'h2',
      resultBytes: 10,
      resultTokens: 3,
      isError: false,
    });
    for (const c of ['read', 'write', 'search', 'exec', 'fetch', 'other'])
      expect(derive({ 'harness_meter.tool.class': c }).record.toolClass).toBe(c);
    expect(derive({ 'harness_meter.tool.class': 'READ' }).record.toolClass).toBe('other');
    expect(derive({ 'gen_ai.tool.name': 'X' }).record.toolClass).toBe('');
    expect(derive({}, {}, 2).record.isError).toBe(true);
    expect(derive({}, {}, 1).record.isError).toBe(false);
    expect(derive({ 'error.type': 'timeout' }).record.isError).toBe(true);
    expect(derive({ 'harness_meter.tool.error': 'true' }).record.isError).toBe(true);
    expect(derive({ 'harness_meter.tool.error': 'false' }).record.isError).toBe(false);
  });

  it('keeps the reported cost exactly in nano-USD, null (with a note) when it is not an amount', () => {
    expect(derive({ 'harness_meter.reported_cost_usd': '0.25' }).record.reportedCostNanos).toBe(
      250_000_000n,
    );
    expect(derive({}).record.reportedCostNanos).toBeNull();
    const bad = derive({ 'harness_meter.reported_cost_usd': '$1' });
    expect(bad.record.reportedCostNanos).toBeNull();
    expect(bad.errors).toEqual([
      'harness_meter.reported_cost_usd="$1" is not a non-negative decimal amount; ignored',
    ]);
  });
});

describe('usdToNanos', () => {
  it('parses decimal text exactly, rounding half up past 9 decimals', () => {
    const cases: [string, bigint | null][] = [
      ['0', 0n],
      ['1', 1_000_000_000n],
      ['12.5', 12_500_000_000n],
      ['0.000000001', 1n],
      ['0.0000000005', 1n],
      ['0.00000000049999', 0n],
      ['0.0123456789', 12_345_679n],
      ['0.0123456785', 12_345_679n],
      ['0.0123456784999', 12_345_678n],
      ['.5', 500_000_000n],
      ['5.', 5_000_000_000n],
      [' 2 ', 2_000_000_000n],
      ['+3', 3_000_000_000n],
      ['1e-7', 100n], // how JS renders a small double
      ['2.5E3', 2_500_000_000_000n],
      ['1234567890.123456789', 1_234_567_890_123_456_789n],
      ['0.1000000000000000055511151231257827', 100_000_000n],
      ['-1', null],
      ['', null],
      ['.', null],
      ['abc', null],
      ['1,5', null],
      ['NaN', null],
      ['1e999', null],
      ['99999999999', null], // beyond Int64 nano-USD
    ];
    for (const [text, want] of cases) expect(usdToNanos(text), text).toBe(want);
  });
});
