import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../../pipeline/src/price/index.js';
import { crossCheckLiteLLM, perTokenToPico } from '../../pipeline/src/price/cross-check.js';

const litellm = JSON.parse(
  readFileSync(new URL('../../../shared/data/litellm-model-prices.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

describe('cross-check of the bundled prices against LiteLLM', () => {
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
        model: 'deepseek-chat',
        field: 'output',
        genaiPrices: '1.1',
        litellm: '0.42',
      }),
    );
  });
});
