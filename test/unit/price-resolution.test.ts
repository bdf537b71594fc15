import { describe, expect, it } from 'vitest';
import { createPriceBook } from '../../pipeline/src/price/index.js';
import { pricedSpan } from '../helpers/spans.js';

const book = createPriceBook();
const at = BigInt(Date.UTC(2026, 10, 20)) * 1_000_000n;
const llm = (
  provider: string,
  model: string,
  inputTokens: number,
  cacheReadTokens: number,
  outputTokens: number,
) =>
  book.priceSpan(
    pricedSpan({
      spanType: 'llm',
      provider,
      requestModel: model,
      inputTokens,
      cacheReadTokens,
      outputTokens,
      startTimeUnixNano: at,
    }),
  );

describe('golden prices across providers (genai-prices v2 at commit 47df840)', () => {
  it('Gemini 2.5 Pro: the long-context cliff at 200,000 input tokens, cached tokens counting toward it', () => {
    // $/MTok up to 200k: input 1.25, cached 0.125, output 10; above: 2.50, 0.25, 15 (every token of the request).
    // 150,000 input (50,000 cached), 1,000 out: 100,000 × 1,250 + 50,000 × 125 + 1,000 × 10,000 = 141,250,000 nano-USD
    expect(llm('gcp.gemini', 'gemini-2.5-pro', 150_000, 50_000, 1000)).toMatchObject({
      priceId: 'genai-prices:google:gemini-2.5-pro@-',
      costNanos: 141_250_000n,
    });
    // 250,000 input (50,000 cached): 200,000 × 2,500 + 50,000 × 250 + 1,000 × 15,000 = 527,500,000 nano-USD
    expect(llm('gcp.vertex_ai', 'gemini-2.5-pro', 250_000, 50_000, 1000).costNanos).toBe(
      527_500_000n,
    );
    // 200,001 input of which 100,001 cached tips it over: 100,000 × 2,500 + 100,001 × 250 + 0 = 275,000,250
    expect(llm('gcp.gemini', 'gemini-2.5-pro', 200_001, 100_001, 0).costNanos).toBe(275_000_250n);
  });

  it('a Bedrock model id resolves to the Bedrock row (regional endpoints: list price + 10%)', () => {
    // 1,000 × 3,300 + 100 × 16,500 = 4,950,000 nano-USD
    const s = llm('aws.bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 1000, 0, 100);
    expect(s).toMatchObject({
      priceId: 'genai-prices:aws:regional.anthropic.claude-sonnet-4-5-20250929-v1:0@-',
      costNanos: 4_950_000n,
    });
  });

  it('an OpenRouter name resolves to the OpenRouter row', () => {
    // 1,000 × 3,000 + 100 × 15,000 = 4,500,000 nano-USD
    expect(llm('openrouter', 'anthropic/claude-sonnet-4.5', 1000, 0, 100)).toMatchObject({
      priceId: 'genai-prices:openrouter:anthropic/claude-sonnet-4.5@-',
      costNanos: 4_500_000n,
    });
  });
});
