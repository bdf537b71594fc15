import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeCost,
  createPriceBook,
  describePrice,
  loadBundledPriceTable,
  loadPriceBook,
  parsePriceOverrides,
} from '../../pipeline/src/price/index.js';
import {
  crossCheckLangfuse,
  crossCheckLiteLLM,
  perTokenToPico,
} from '../../pipeline/src/price/cross-check.js';
import { generateGapFill, loadGapFill, renderGapFill } from '../../pipeline/src/price/gap-fill.js';
import { loadServiceTiers } from '../../pipeline/src/price/service-tiers.js';

const shared = (f: string): string =>
  readFileSync(new URL(`../../../shared/data/${f}`, import.meta.url), 'utf8');
const litellmText = shared('litellm-model-prices.json');
const langfuseText = shared('langfuse-default-model-prices.json');
const litellm = JSON.parse(litellmText) as Record<string, unknown>;
const AT = new Date('2026-11-20T10:00:00Z');

describe('cross-check of the bundled prices against LiteLLM and Langfuse', () => {
  it('reads LiteLLM per-token floats exactly', () => {
    expect(perTokenToPico(3e-6)).toBe(3_000_000n);
    expect(perTokenToPico(1.25e-7)).toBe(125_000n);
    expect(perTokenToPico(0.00001)).toBe(10_000_000n);
    expect(perTokenToPico(0)).toBe(0n);
  });

  it('compares the models both sources know and lists every difference, resolving none', () => {
    const r = crossCheckLiteLLM(createPriceBook(), litellm, new Date('2026-02-21T00:00:00Z'));
    expect(r.compared).toBeGreaterThan(100);
    expect(r.matched).toBeGreaterThan(r.compared / 2);
    const fields = (model: string) =>
      r.differences.filter((d) => d.model === model).map((d) => d.field);
    expect(fields('gpt-4o')).toEqual([]);
    expect(fields('claude-sonnet-4-5')).toEqual([]);
    // DeepSeek's listed prices differ (genai-prices keeps the pre-2025-09 list price; see its notes).
    expect(r.differences).toContainEqual(
      expect.objectContaining({
        source: 'litellm',
        model: 'deepseek-chat',
        field: 'output',
        genaiPrices: '1.1',
        other: '0.42',
      }),
    );
  });

  it('Langfuse: compared by model name (default tier); a snapshot genai-prices prices as its family is listed', () => {
    const r = crossCheckLangfuse(
      createPriceBook(),
      JSON.parse(langfuseText) as Parameters<typeof crossCheckLangfuse>[1],
      new Date('2026-08-22T00:00:00Z'),
    );
    expect(r.compared).toBeGreaterThan(100);
    expect(r.differences.some((d) => d.model === 'claude-sonnet-4-5')).toBe(false);
    // gpt-4o-2024-05-13 launched at $5/$15; genai-prices' gpt-4o row ($2.5/$10) matches that name too.
    expect(r.differences).toContainEqual(
      expect.objectContaining({
        source: 'langfuse',
        model: 'gpt-4o-2024-05-13',
        field: 'input',
        genaiPrices: '2.5',
        other: '5',
        priceId: 'genai-prices:openai:gpt-4o@-',
      }),
    );
  });
});

describe('gap fill: models genai-prices lacks, priced from LiteLLM, then Langfuse', () => {
  it('the committed pipeline/data/gap-fill.json equals a fresh generation', () => {
    const committed = readFileSync(
      new URL('../../pipeline/data/gap-fill.json', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(
      renderGapFill(generateGapFill(createPriceBook(), litellmText, langfuseText)),
    );
  });

  it('fills only what the bundled table does not resolve, with rows that name the source', () => {
    const book = loadPriceBook(undefined);
    // Not in genai-prices: Mistral's Devstral Small 2507 from LiteLLM ($0.1 in, $0.3 out per MTok).
    const devstral = book.resolve('mistral_ai', 'devstral-small-2507', AT);
    expect(devstral?.id).toBe('gap-fill:litellm:mistral:devstral-small-2507@-');
    expect(devstral?.origin).toBe('gap-fill');
    // 10,000 × 100,000 pico + 2,000 × 300,000 pico = 1,000,000 + 600,000 nano-USD
    expect(
      computeCost(devstral!, {
        inputTokens: 10_000,
        outputTokens: 2_000,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        cacheWrite5mTokens: 0,
        cacheWrite1hTokens: 0,
      }).totalNanos,
    ).toBe(1_600_000n);
    expect(book.resolve('', 'mistral/devstral-small-2507', AT)?.id).toBe(devstral?.id);
    // Neither genai-prices nor LiteLLM: Langfuse's regex match, any case.
    expect(book.resolve('anthropic', 'Claude-Instant-1.2', AT)?.id).toBe(
      'gap-fill:langfuse:langfuse:claude-instant-1.2@-',
    );
    // genai-prices wins where it has the model; an unknown name stays unpriced.
    expect(book.resolve('openai', 'gpt-4o', AT)?.id).toBe('genai-prices:openai:gpt-4o@-');
    expect(book.resolve('acme', 'acme-coder-70b', AT)).toBeUndefined();
    expect(describePrice(book, 'mistral_ai', 'devstral-small-2507', AT)).toContain(
      'source:         gap fill: not in genai-prices, priced from BerriAI/litellm@5390469c1b29860b4df398e42f37c4fb02355734',
    );
  });

  it('an override of the same model wins over the gap fill', () => {
    const book = createPriceBook(
      loadBundledPriceTable(),
      parsePriceOverrides(
        {
          models: [
            {
              provider: 'mistral',
              id: 'devstral-small-2507',
              prices: { input: '0.05', output: '0.1' },
            },
          ],
        },
        'p.json',
      ),
      loadServiceTiers(),
      loadGapFill().tables,
    );
    expect(book.resolve('mistral_ai', 'devstral-small-2507', AT)?.id).toBe(
      'override:mistral:devstral-small-2507@-',
    );
  });
});
