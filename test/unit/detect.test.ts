import { describe, expect, it } from 'vitest';
import {
  findRedundancy,
  mcpServerOf,
  priceFindings,
  type SessionCall,
} from '../../pipeline/src/detect/index.js';

let t = 0n;
const at = (): bigint => (t += 1_000_000_000n);
const llm = (spanId: string, outputTokens: number): SessionCall => ({
  spanId,
  at: at(),
  type: 'llm',
  outputTokens,
});
const tool = (
  spanId: string,
  toolClass: NonNullable<SessionCall['toolClass']>,
  args: string,
  target: string,
  resultTokens: number,
  extra: Partial<SessionCall> = {},
): SessionCall =>
  Object.assign(
    {
      spanId,
      at: at(),
      type: 'tool',
      toolName: toolClass === 'read' ? 'Read' : 'Tool',
      toolClass,
      argsHash: args,
      targetHash: target,
      resultTokens,
    } satisfies SessionCall,
    extra,
  );

describe('redundancy rules', () => {
  it('flags each redundant call once, never the first occurrence', () => {
    const calls = [
      llm('l1', 100),
      tool('r1', 'read', 'a', 'A', 1000),
      llm('l2', 50),
      tool('r2', 'read', 'a', 'A', 1000),
      llm('l3', 10),
      tool('r3', 'read', 'a', 'A', 1000),
    ];
    const f = findRedundancy(calls);
    expect(f.map((x) => [x.spanId, x.kind, x.repeatsSpanId])).toEqual([
      ['r2', 're_read', 'r1'],
      ['r3', 're_read', 'r1'],
    ]);
  });

  it('uses line ranges: a range inside one already read is a re-read, a wider one is not', () => {
    const calls = [
      tool('a', 'read', 'x1', 'F', 10, { rangeStart: 1, rangeEnd: 100 }),
      tool('b', 'read', 'x2', 'F', 10, { rangeStart: 20, rangeEnd: 30 }),
      tool('c', 'read', 'x3', 'F', 10, { rangeStart: 90, rangeEnd: 150 }),
      tool('d', 'read', 'x4', 'F', 10),
    ];
    expect(findRedundancy(calls).map((x) => x.spanId)).toEqual(['b']);
  });

  it('counts retry loops and tells them from unchanged re-runs', () => {
    const calls = [
      tool('t1', 'exec', 'npm test', 'C', 5, { isError: true }),
      tool('t2', 'exec', 'npm test', 'C', 5, { isError: true }),
      tool('t3', 'exec', 'npm test', 'C', 5, { isError: false }),
      tool('t4', 'exec', 'npm test', 'C', 5, { isError: false }),
    ];
    expect(findRedundancy(calls).map((x) => [x.spanId, x.kind, x.loopLength])).toEqual([
      ['t2', 'retry_loop', 2],
      ['t3', 'retry_loop', 3],
      ['t4', 'unchanged_rerun', 0],
    ]);
  });

  it('gives the same findings whatever order the calls arrive in', () => {
    const calls = [
      llm('l1', 1),
      tool('r1', 'read', 'a', 'A', 5),
      tool('w1', 'write', 'w', 'B', 1),
      tool('r2', 'read', 'a', 'A', 5),
      tool('s1', 'search', 'q', 'Q', 5),
      tool('s2', 'search', 'q', 'Q', 5),
    ];
    const expected = findRedundancy(calls);
    expect(findRedundancy([...calls].reverse())).toEqual(expected);
    expect(expected.map((f) => f.kind)).toEqual(['re_read', 'repeated_search']);
  });

  it('finds edit churn: a later edit that puts back what an earlier one replaced', () => {
    const calls = [
      tool('e1', 'write', 'e1', 'F', 1, { beforeHash: 'A', afterHash: 'B' }),
      tool('e2', 'write', 'e2', 'F', 1, { beforeHash: 'C', afterHash: 'D' }),
      tool('e3', 'write', 'e3', 'F', 1, { beforeHash: 'B', afterHash: 'A' }),
      tool('e4', 'write', 'e4', 'G', 1, { beforeHash: 'D', afterHash: 'C' }),
    ];
    expect(findRedundancy(calls).map((x) => [x.spanId, x.kind, x.repeatsSpanId])).toEqual([
      ['e3', 'edit_churn', 'e1'],
    ]);
  });

  it('names the MCP server of mcp__server__tool names', () => {
    expect(mcpServerOf('mcp__github__get_issue')).toBe('github');
    expect(mcpServerOf('Read')).toBe('');
  });
});

describe('the cost of waste', () => {
  it('prices the direct cost on the next call and the context rent on the later ones, by hand', () => {
    // prices (pico-USD per token): input 3,000,000 ($3/MTok), cache read 300,000, output 15,000,000
    const prices = { input: 3_000_000n, cacheRead: 300_000n, output: 15_000_000n };
    const calls = [
      llm('l1', 400), // issues r1 and g1: 200 output tokens each
      tool('r1', 'read', 'a', 'A', 1000),
      tool('g1', 'search', 'g', 'G', 10),
      llm('l2', 300), // issues r2 alone: 300 output tokens
      tool('r2', 'read', 'a', 'A', 1000),
      llm('l3', 10), // next call after r2: pays the 1,000 result tokens as input
      llm('l4', 10), // rent, cache read
      llm('l5', 10), // rent, no cache read this time: input price
      { spanId: 'c1', at: at(), type: 'compaction' as const },
      llm('l6', 10), // after compaction: no rent
    ];
    const [f] = priceFindings(
      findRedundancy(calls),
      calls,
      () => prices,
      (id) => id !== 'l5',
    );
    // direct: 1,000 × 3,000 nano + 300 × 15,000 nano = 3,000,000 + 4,500,000 = 7,500,000 nano-USD
    // carried: 1,000 × 300 (l4, cache read) + 1,000 × 3,000 (l5, input) = 300,000 + 3,000,000 = 3,300,000
    expect(f).toMatchObject({
      spanId: 'r2',
      issueTokens: 300,
      wastedTokens: 1300,
      directCostNanos: 7_500_000n,
      carriedTokens: 2000,
      carriedCostNanos: 3_300_000n,
      fullyPriced: true,
    });
  });

  it('prices by what was billed: cache-write price for the part the next call wrote to the cache', () => {
    // pico-USD per token: input 3,000,000, cache write 3,750,000, cache read 300,000, output 0
    const prices = { input: 3_000_000n, cacheWrite: 3_750_000n, cacheRead: 300_000n, output: 0n };
    const calls = [
      tool('r1', 'read', 'a', 'A', 1000),
      llm('l1', 0),
      tool('r2', 'read', 'a', 'A', 1000),
      llm('l2', 0), // wrote 600 tokens to the cache: 600 at the write price, 400 at the input price
      llm('l3', 0), // read from the cache: rent at the read price
      llm('l4', 0), // cache expired, rewritten: rent at the write price
      llm('l5', 0), // no cache at all: rent at the input price
    ];
    const use: Record<string, { readTokens: number; writeTokens: number }> = {
      l2: { readTokens: 5000, writeTokens: 600 },
      l3: { readTokens: 6000, writeTokens: 0 },
      l4: { readTokens: 0, writeTokens: 7000 },
      l5: { readTokens: 0, writeTokens: 0 },
    };
    const [f] = priceFindings(
      findRedundancy(calls),
      calls,
      () => prices,
      (id) => use[id] ?? false,
    );
    // direct: 600 × 3,750 + 400 × 3,000 = 2,250,000 + 1,200,000 nano-USD
    // carried: 1,000 × (300 + 3,750 + 3,000) = 7,050,000 nano-USD
    expect(f).toMatchObject({
      spanId: 'r2',
      directCostNanos: 3_450_000n,
      carriedCostNanos: 7_050_000n,
    });
  });

  it('says when an LLM call involved had no price', () => {
    const calls = [
      tool('r1', 'read', 'a', 'A', 10),
      tool('r2', 'read', 'a', 'A', 10),
      llm('l1', 5),
    ];
    const [f] = priceFindings(
      findRedundancy(calls),
      calls,
      () => undefined,
      () => false,
    );
    expect(f).toMatchObject({ directCostNanos: 0n, fullyPriced: false });
  });
});
