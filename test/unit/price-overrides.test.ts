import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  computeCost,
  createPriceBook,
  describePrice,
  discountPico,
  loadBundledPriceTable,
  loadPriceOverrides,
  parsePriceOverrides,
  PriceTableError,
  type CostUsage,
} from '../../pipeline/src/price/index.js';
import { loadConfig } from '../../pipeline/src/config.js';

const table = loadBundledPriceTable();
const AT = new Date('2026-11-20T10:00:00Z');
const usage = (u: Partial<CostUsage>): CostUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite5mTokens: 0,
  cacheWrite1hTokens: 0,
  ...u,
});

function overridesError(value: unknown): PriceTableError {
  try {
    parsePriceOverrides(value, 'prices.json');
  } catch (e) {
    if (e instanceof PriceTableError) return e;
    throw e;
  }
  throw new Error('expected a PriceTableError');
}

describe('price overrides file: validation', () => {
  it('names the field, what was expected, and gives an example', () => {
    const e = overridesError({ discounts: [{ provider: 'anthropic', percent: 150 }] });
    expect(e.code).toBe('PRICE_OVERRIDES_INVALID');
    expect(e.message).toContain('prices.json: discounts[0].percent');
    expect(e.message).toContain('less than 100');
    expect(e.message).toContain('got 150');
    expect(e.message).toContain('e.g.');

    expect(overridesError({ discount: [] }).message).toContain(
      'only the fields $schema, comment, discounts, models, priceChanges',
    );
    expect(overridesError([]).message).toContain('(root): expected an object');
    expect(
      overridesError({ models: [{ provider: 'acme', id: 'x', prices: { input: 'cheap' } }] })
        .message,
    ).toContain('models[0].prices.input: expected a non-negative price in USD per million tokens');
    expect(
      overridesError({ models: [{ provider: 'acme', id: 'x', prices: { cacheRead: '1' } }] })
        .message,
    ).toContain('models[0].prices: expected at least an input or an output price');
    expect(
      overridesError({
        priceChanges: [
          { provider: 'openai', model: 'gpt-4o', from: '2026-02-30', prices: { input: 1 } },
        ],
      }).message,
    ).toContain('priceChanges[0].from: expected a date YYYY-MM-DD (got "2026-02-30")');
    expect(
      overridesError({
        discounts: [
          { provider: 'openai', percent: 10 },
          { provider: 'OpenAI', percent: 12 },
        ],
      }).message,
    ).toContain('discounts[1]: expected one discount per provider and model');
  });

  it('refuses, at createPriceBook, an override naming a model no table knows', () => {
    const o = parsePriceOverrides(
      { discounts: [{ provider: 'anthropic', model: 'claude-nonexistent-9', percent: 5 }] },
      'prices.json',
    );
    expect(() => createPriceBook(table, o)).toThrow(
      /prices\.json: discounts\[0\]\.model: provider anthropic has no model "claude-nonexistent-9"/,
    );
  });

  it('reads a file; HM_PRICES_FILE must exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-overrides-'));
    const file = join(dir, 'prices.json');
    writeFileSync(file, '{"discounts": [{"provider": "anthropic", "percent": "15"}]');
    expect(() => loadPriceOverrides(file)).toThrow(/is not valid JSON/);
    writeFileSync(file, '{"discounts": [{"provider": "anthropic", "percent": "15"}]}');
    expect(loadPriceOverrides(file).discounts).toEqual([
      { provider: 'anthropic', model: null, percent: '15', from: null },
    ]);
    expect(loadConfig({ HM_PRICES_FILE: file }).pricesFile).toBe(file);
    expect(() => loadConfig({ HM_PRICES_FILE: join(dir, 'missing.json') })).toThrow(
      /HM_PRICES_FILE=.*does not exist.*e\.g\. HM_PRICES_FILE=/,
    );
  });
});

describe('price overrides in the price book', () => {
  it('discountPico is exact, half up', () => {
    expect(discountPico(3_000_000n, '15')).toBe(2_550_000n);
    // 10,000,000 × 87.5 / 100 = 8,750,000
    expect(discountPico(10_000_000n, '12.5')).toBe(8_750_000n);
    // 1 × 0.5 = 0.5 → 1 (half up)
    expect(discountPico(1n, '50')).toBe(1n);
  });

  it('a provider discount: every anthropic row costs 15% less, and its id says so', () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides({ discounts: [{ provider: 'anthropic', percent: 15 }] }, 'p.json'),
    );
    const row = book.resolve('anthropic', 'claude-sonnet-4-5-20250929', AT);
    expect(row?.id).toBe('genai-prices:anthropic:claude-sonnet-4-5@-+discount:15%');
    expect(row?.origin).toBe('override');
    // input 3 USD/MTok × 0.85 = 2.55 → 2,550,000 pico/token; output 15 × 0.85 = 12.75 → 12,750,000
    //   input  1,000 × 2,550,000 = 2,550,000,000 pico = 2,550,000 nano
    //   output   100 × 12,750,000 = 1,275,000,000 pico = 1,275,000 nano
    //   total 3,825,000 nano-USD
    expect(computeCost(row!, usage({ inputTokens: 1000, outputTokens: 100 })).totalNanos).toBe(
      3_825_000n,
    );
    // other providers are untouched
    expect(book.resolve('openai', 'gpt-4o', AT)?.id).toBe('genai-prices:openai:gpt-4o@-');
  });

  it('a model discount from a date splits the period; a model discount beats the provider one', () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          discounts: [
            { provider: 'openai', percent: 5 },
            { provider: 'openai', model: 'gpt-4o', percent: '12.5', from: '2026-06-01' },
          ],
        },
        'p.json',
      ),
    );
    expect(book.resolve('openai', 'gpt-4o', new Date('2026-05-31T23:59:59Z'))?.id).toBe(
      'genai-prices:openai:gpt-4o@-',
    );
    const after = book.resolve('openai', 'gpt-4o-2024-08-06', new Date('2026-06-01T00:00:00Z'));
    expect(after?.id).toBe('genai-prices:openai:gpt-4o@-+discount:12.5%@2026-06-01');
    expect(after?.effectiveFrom).toBe('2026-06-01');
    // input 2.5 × 0.875 = 2.1875 → 2,187,500 pico; 1,000,000 tokens → 2,187,500,000,000 pico = 2,187,500,000 nano
    expect(computeCost(after!, usage({ inputTokens: 1_000_000 })).totalNanos).toBe(2_187_500_000n);
    expect(book.resolve('openai', 'gpt-4o-mini', AT)?.id).toMatch(/\+discount:5%$/);
  });

  it('a custom self-hosted model: priced from the overrides, found with or without its provider', () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          models: [
            {
              provider: 'acme',
              id: 'acme-coder-70b',
              match: ['acme-coder-70b', 'acme-coder-70b-*'],
              prices: { input: '0.2', output: '0.6' },
            },
          ],
        },
        'p.json',
      ),
    );
    const row = book.resolve('', 'ACME-Coder-70B-instruct', AT);
    expect(row?.id).toBe('override:acme:acme-coder-70b@-');
    expect(book.resolve('acme', 'acme-coder-70b', AT)?.id).toBe(row?.id);
    expect(book.resolve('acme', 'acme-coder-7b', AT)).toBeUndefined();
    // input 10,000 × 200,000 pico = 2,000,000,000 pico = 2,000,000 nano (cache reads at the input price)
    // output 2,000 × 600,000 pico = 1,200,000,000 pico = 1,200,000 nano → total 3,200,000 nano
    expect(
      computeCost(row!, usage({ inputTokens: 10_000, cacheReadTokens: 4000, outputTokens: 2000 }))
        .totalNanos,
    ).toBe(3_200_000n);
    expect(describePrice(book, '', 'acme-coder-70b', AT)).toContain(
      'source:         overrides file p.json',
    );
  });

  it('a custom model with fees: per request and per web search (USD per thousand), shown by prices show', () => {
    expect(
      overridesError({
        models: [
          {
            provider: 'acme',
            id: 'x',
            prices: { input: '1', request: { base: '1', tiers: [] } },
          },
        ],
      }).message,
    ).toContain('models[0].prices.request: expected a fee in USD per thousand as a decimal string');
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          models: [
            {
              provider: 'acme',
              id: 'acme-search',
              prices: { input: '1', output: '2', request: '5', webSearch: '25' },
            },
          ],
          discounts: [{ provider: 'acme', percent: '10' }],
        },
        'p.json',
      ),
    );
    const row = book.resolve('acme', 'acme-search', AT)!;
    // tokens: 1,000 × 900,000 + 100 × 1,800,000 pico = 900,000 + 180,000 nano (10% off)
    // fees, 10% off as well: request 4.5 per 1,000 = 4,500,000 nano; 2 searches × 22,500,000 nano
    const c = computeCost(row, {
      ...usage({ inputTokens: 1000, outputTokens: 100 }),
      webSearches: 2,
    });
    expect(c.feeNanos).toBe(4_500_000n + 45_000_000n);
    expect(c.totalNanos).toBe(1_080_000n + 49_500_000n);
    const shown = describePrice(book, 'acme', 'acme-search', AT);
    expect(shown).toContain('fees in USD per thousand:');
    expect(shown).toContain('per request     4.5\n');
    expect(shown).toContain('per web search  22.5\n');
  });

  it('a price change from a date: earlier calls keep the old price, missing components carry over', () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          priceChanges: [
            {
              provider: 'anthropic',
              model: 'claude-sonnet-4-5',
              from: '2026-12-01',
              prices: { input: '2.5' },
            },
          ],
          discounts: [{ provider: 'anthropic', percent: 10 }],
        },
        'p.json',
      ),
    );
    expect(book.resolve('anthropic', 'claude-sonnet-4-5', AT)?.id).toBe(
      'genai-prices:anthropic:claude-sonnet-4-5@-+discount:10%',
    );
    const dec = book.resolve('anthropic', 'claude-sonnet-4-5', new Date('2026-12-01T00:00:00Z'));
    expect(dec?.id).toBe('override:anthropic:claude-sonnet-4-5@2026-12-01+discount:10%');
    // input 2.5 × 0.9 = 2.25 → 2,250,000 pico, no tiers; output carried over (15, tier 22.5) × 0.9 = 13.5 (tier 20.25)
    expect(dec?.prices.input).toEqual({ base: 2_250_000n, tiers: [] });
    expect(dec?.prices.output?.base).toBe(13_500_000n);
    expect(book.history('anthropic', 'claude-sonnet-4-5').map((r) => r.effectiveFrom)).toEqual([
      null,
      '2026-12-01',
    ]);
    const text = describePrice(
      book,
      'anthropic',
      'claude-sonnet-4-5',
      new Date('2026-12-02T00:00:00Z'),
    );
    expect(text).toContain('effective from: 2026-12-01');
    expect(text).toContain('input (fresh)   2.25\n');
    expect(text).toContain('output          13.5; above 200000 input tokens: 20.25');
  });
});
