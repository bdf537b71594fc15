import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeCost,
  createPriceBook,
  loadBundledPriceTable,
  mtokToPico,
} from '../../pipeline/src/price/index.js';
import { generate } from '../../pipeline/src/price/generate.js';
import { pricedSpan } from '../helpers/spans.js';
import type { SpanRecord } from '../../pipeline/src/model.js';

const book = createPriceBook(loadBundledPriceTable());
const at = new Date('2026-11-20T10:00:00Z');

function llm(provider: string, model: string, usage: Partial<SpanRecord>, when = at): SpanRecord {
  return {
    ...pricedSpan({
      spanType: 'llm',
      provider,
      requestModel: model,
      startTimeUnixNano: BigInt(when.getTime()) * 1_000_000n,
      ...usage,
    }),
  };
}

describe('decimal prices to integer pico-USD per token', () => {
  it('is exact', () => {
    expect(mtokToPico('3')).toBe(3_000_000n);
    expect(mtokToPico('0.075')).toBe(75_000n);
    expect(mtokToPico('3.75')).toBe(3_750_000n);
    expect(mtokToPico('0.0000001')).toBe(0n); // below a pico per token: rounds half up to 0
    expect(mtokToPico('0.0000005')).toBe(1n);
    expect(mtokToPico('1e-7')).toBe(0n);
    expect(mtokToPico('2.5e1')).toBe(25_000_000n);
  });
});

describe('price book over the bundled genai-prices table', () => {
  it('prices Claude Sonnet 4.5 with 5-minute and 1-hour cache writes and cache reads (golden)', () => {
    // $/MTok: input 3, cache read 0.30, cache write 5m 3.75, 1h 6, output 15 (genai-prices anthropic/claude-sonnet-4-5)
    // fresh = 10,200 - 8,000 - 600 - 400 = 1,200
    // 1,200 × 3,000 + 8,000 × 300 + (600 × 3,750 + 400 × 6,000) + 350 × 15,000 nano-USD
    // = 3,600,000 + 2,400,000 + 4,650,000 + 5,250,000 = 15,900,000 nano-USD ($0.0159)
    const s = book.priceSpan(
      llm('anthropic', 'claude-sonnet-4-5', {
        responseModel: 'claude-sonnet-4-5-20250929',
        inputTokens: 10_200,
        cacheReadTokens: 8000,
        cacheWriteTokens: 1000,
        cacheWrite5mTokens: 600,
        cacheWrite1hTokens: 400,
        outputTokens: 350,
      }),
    );
    expect(s).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
      unpriced: false,
      inputCostNanos: 3_600_000n,
      cacheReadCostNanos: 2_400_000n,
      cacheWriteCostNanos: 4_650_000n,
      outputCostNanos: 5_250_000n,
      costNanos: 15_900_000n,
    });
  });

  it('prices gpt-4o with cached input (golden), and resolves dated snapshots', () => {
    // $/MTok: input 2.50, cached 1.25, output 10. fresh 1,000 × 2,500 + 4,000 × 1,250 + 400 × 10,000 = 11,500,000 nano-USD
    const s = book.priceSpan(
      llm('openai', 'gpt-4o-2024-08-06', {
        inputTokens: 5000,
        cacheReadTokens: 4000,
        outputTokens: 400,
      }),
    );
    expect(s).toMatchObject({ priceId: 'genai-prices:openai:gpt-4o@-', costNanos: 11_500_000n });
    // gpt-4o-mini: 0.15 / 0.075 / 0.60 $/MTok: 1,000 × 150 + 4,000 × 75 + 400 × 600 = 690,000 nano-USD
    expect(
      book.priceSpan(
        llm('openai', 'gpt-4o-mini', {
          inputTokens: 5000,
          cacheReadTokens: 4000,
          outputTokens: 400,
        }),
      ).costNanos,
    ).toBe(690_000n);
  });

  it('leaves an unknown model unpriced: no cost, never $0', () => {
    const s = book.priceSpan(
      llm('openai', 'acme-local-coder-7b', { inputTokens: 100, outputTokens: 10 }),
    );
    expect(s).toMatchObject({ unpriced: true, costNanos: null, priceId: '' });
    const tool = book.priceSpan(pricedSpan({ spanType: 'tool', toolName: 'Read' }));
    expect(tool).toMatchObject({ unpriced: false, costNanos: null });
  });

  it('applies the price period in force on the day: Claude Opus 4.6 long-context premium ended 2026-03-13', () => {
    // Before 2026-03-13 the row has cliff tiers: over 200,000 input tokens every input token pays 10 $/MTok instead of 5.
    const usage = { inputTokens: 250_000, outputTokens: 0 };
    const before = book.priceSpan(
      llm('anthropic', 'claude-opus-4-6', usage, new Date('2026-03-12T23:59:00Z')),
    );
    const after = book.priceSpan(
      llm('anthropic', 'claude-opus-4-6', usage, new Date('2026-03-13T00:00:00Z')),
    );
    expect(before).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-opus-4-6@-',
      costNanos: 2_500_000_000n,
    }); // 250,000 × 10,000
    expect(after).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-opus-4-6@2026-03-13',
      costNanos: 1_250_000_000n,
    }); // 250,000 × 5,000
  });

  it('switches to the tier price only past the threshold (cliff)', () => {
    const row = book.resolve('anthropic', 'claude-sonnet-4-5', at);
    expect(row).toBeDefined();
    const cost = (n: number) =>
      computeCost(row!, {
        inputTokens: n,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWrite5mTokens: 0,
        cacheWrite1hTokens: 0,
      }).totalNanos;
    expect(cost(200_000)).toBe(600_000_000n); // 200,000 × 3,000
    expect(cost(200_001)).toBe(1_200_006_000n); // 200,001 × 6,000
  });

  it('resolves names across providers: no provider given, provider prefixes', () => {
    expect(book.resolve('', 'claude-sonnet-4-5-20250929', at)?.id).toBe(
      'genai-prices:anthropic:claude-sonnet-4-5@-',
    );
    expect(book.resolve('gcp.gemini', 'gemini-2.5-pro', at)?.provider).toBe('google');
    expect(book.resolve('anthropic', 'anthropic/claude-sonnet-4-5', at)?.model).toBe(
      'claude-sonnet-4-5',
    );
    expect(book.resolve('openai', '', at)).toBeUndefined();
  });
});

describe('the price table generator', () => {
  it('is deterministic and the committed table equals a fresh generation', () => {
    const source = JSON.parse(
      readFileSync(
        new URL('../../../shared/data/genai-prices-v2-data.json', import.meta.url),
        'utf8',
      ),
    ) as Parameters<typeof generate>[0];
    const a = JSON.stringify(generate(source)) + '\n';
    const b = JSON.stringify(generate(JSON.parse(JSON.stringify(source)) as typeof source)) + '\n';
    expect(a).toBe(b);
    expect(readFileSync(new URL('../../pipeline/data/prices.json', import.meta.url), 'utf8')).toBe(
      a,
    );
  });
});
