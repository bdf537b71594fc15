import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../pipeline/src/model.js';
import {
  computeCost,
  createPriceBook,
  describePrice,
  loadBundledPriceTable,
  mtokToPico,
  picoToNanos,
  PriceTableError,
  type CostUsage,
} from '../../pipeline/src/price/index.js';

const table = loadBundledPriceTable();
const book = createPriceBook(table);
const NOW = new Date('2026-11-20T10:00:00Z');

function span(overrides: Partial<SpanRecord>): SpanRecord {
  const start = BigInt(NOW.getTime()) * 1_000_000n;
  return {
    traceId: '0'.repeat(31) + '1',
    spanId: '0'.repeat(15) + '1',
    parentSpanId: '',
    name: 'chat',
    kind: 3,
    startTimeUnixNano: start,
    endTimeUnixNano: start + 1_000_000n,
    statusCode: 0,
    statusMessage: '',
    serviceName: 'test',
    scopeName: 'test',
    resourceAttributes: {},
    spanAttributes: {},
    spanType: 'llm',
    operation: 'chat',
    provider: '',
    requestModel: '',
    responseModel: '',
    sessionId: '',
    developer: '',
    team: '',
    repo: '',
    branch: '',
    commit: '',
    pr: 0,
    intent: '',
    source: 'otel',
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    reasoningTokens: 0,
    reportedCostNanos: null,
    toolName: '',
    toolCallId: '',
    toolClass: '',
    argsHash: '',
    targetHash: '',
    resultBytes: 0,
    resultTokens: 0,
    isError: false,
    ...overrides,
  };
}

const startingAt = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

function usage(u: Partial<CostUsage>): CostUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    ...u,
  };
}

describe('decimal prices → integer pico-USD per token', () => {
  it('parses the decimal text exactly, rounding past 6 decimals half up', () => {
    expect(mtokToPico('3')).toBe(3_000_000n);
    expect(mtokToPico('0.075')).toBe(75_000n);
    expect(mtokToPico('3.75')).toBe(3_750_000n);
    expect(mtokToPico('0.00875')).toBe(8_750n);
    expect(mtokToPico('2.5e1')).toBe(25_000_000n);
    expect(mtokToPico('1.5E-6')).toBe(2n); // 1.5 pico: half up
    expect(mtokToPico('0.0000005')).toBe(1n); // half a pico: up
    expect(mtokToPico('0.0000004999')).toBe(0n);
    // Float artifacts present in the upstream data:
    expect(mtokToPico('0.18000000000000002')).toBe(180_000n);
    expect(mtokToPico('0.08333333333333334')).toBe(83_333n);
    // A float would get this wrong: 0.1 + 0.2 style error is impossible here.
    expect(mtokToPico('1234567.891234')).toBe(1_234_567_891_234n);
  });

  it('refuses text that is not a non-negative decimal', () => {
    for (const bad of ['', '-1', '1,5', '.5', '1.', 'abc', '1e999', '0x10', ' 3']) {
      expect(() => mtokToPico(bad), bad).toThrow(PriceTableError);
    }
  });

  it('rounds pico-USD to nano-USD half up', () => {
    expect(picoToNanos(499n)).toBe(0n);
    expect(picoToNanos(500n)).toBe(1n);
    expect(picoToNanos(1_499n)).toBe(1n);
    expect(picoToNanos(1_500n)).toBe(2n);
    expect(picoToNanos(0n)).toBe(0n);
  });
});

describe('price book over the bundled genai-prices table: golden costs', () => {
  it('Claude Sonnet 4.5: fresh input, cache reads, 5-minute and 1-hour cache writes, output', () => {
    // genai-prices anthropic/claude-sonnet-4-5, USD/MTok (base, below the 200k cliff):
    //   input 3, cache_read 0.3, cache_write (5m) 3.75, cache_write_1h 6, output 15
    //   = pico-USD/token: 3,000,000 · 300,000 · 3,750,000 · 6,000,000 · 15,000,000
    // input 10,200 includes 8,000 cache reads and 1,000 writes (600 5m + 400 1h): fresh 1,200
    //   input  1,200 × 3,000,000                      = 3,600,000,000 pico = 3,600,000 nano
    //   read   8,000 × 300,000                        = 2,400,000,000 pico = 2,400,000 nano
    //   write  600 × 3,750,000 + 400 × 6,000,000      = 4,650,000,000 pico = 4,650,000 nano
    //   output 350 × 15,000,000 (reasoning included)  = 5,250,000,000 pico = 5,250,000 nano
    //   total 15,900,000 nano-USD = $0.0159
    expect(
      table.providers
        .find((p) => p.id === 'anthropic')
        ?.models.find((m) => m.id === 'claude-sonnet-4-5')?.periods,
    ).toEqual([
      {
        effectiveFrom: null,
        prices: {
          input: { base: '3', tiers: [{ start: 200_000, price: '6' }] },
          cacheRead: { base: '0.3', tiers: [{ start: 200_000, price: '0.6' }] },
          cacheWrite: { base: '3.75', tiers: [{ start: 200_000, price: '7.5' }] },
          cacheWrite1h: { base: '6', tiers: [{ start: 200_000, price: '12' }] },
          output: { base: '15', tiers: [{ start: 200_000, price: '22.5' }] },
          webSearch: '10',
        },
      },
    ]);
    const priced = book.priceSpan(
      span({
        provider: 'anthropic',
        requestModel: 'claude-sonnet-4-5',
        responseModel: 'claude-sonnet-4-5-20250929',
        inputTokens: 10_200,
        cacheReadTokens: 8_000,
        cacheWriteTokens: 1_000,
        cacheWrite5mTokens: 600,
        cacheWrite1hTokens: 400,
        outputTokens: 350,
        reasoningTokens: 120,
      }),
    );
    expect(priced).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
      unpriced: false,
      inputCostNanos: 3_600_000n,
      cacheReadCostNanos: 2_400_000n,
      cacheWriteCostNanos: 4_650_000n,
      outputCostNanos: 5_250_000n,
      costNanos: 15_900_000n,
    });
  });

  it('gpt-4o snapshot with cached input', () => {
    // genai-prices openai/gpt-4o: input 2.5, cache_read 1.25, output 10 USD/MTok
    // input 5,000 of which 4,000 cached, output 400:
    //   1,000 × 2,500,000 + 4,000 × 1,250,000 + 400 × 10,000,000 pico
    //   = 2,500,000 + 5,000,000 + 4,000,000 nano = 11,500,000 nano-USD ($0.0115)
    const priced = book.priceSpan(
      span({
        provider: 'openai',
        responseModel: 'gpt-4o-2024-08-06',
        inputTokens: 5_000,
        cacheReadTokens: 4_000,
        outputTokens: 400,
      }),
    );
    expect(priced).toMatchObject({
      priceId: 'genai-prices:openai:gpt-4o@-',
      inputCostNanos: 2_500_000n,
      cacheReadCostNanos: 5_000_000n,
      cacheWriteCostNanos: 0n,
      outputCostNanos: 4_000_000n,
      costNanos: 11_500_000n,
    });
    // gpt-4.1: input 2, cache_read 0.5, output 8: 1,000 × 2,000 + 4,000 × 500 + 400 × 8,000 nano = 7,200,000
    expect(
      book.priceSpan(
        span({
          provider: 'openai',
          requestModel: 'gpt-4.1-2025-04-14',
          inputTokens: 5_000,
          cacheReadTokens: 4_000,
          outputTokens: 400,
        }),
      ).costNanos,
    ).toBe(7_200_000n);
  });

  it('rounds each component half up to nano-USD, then sums (Amazon Nova Micro on Bedrock)', () => {
    // genai-prices aws/amazon.nova-micro-v1:0: input 0.035, cache_read 0.00875, output 0.14 USD/MTok
    //   = 35,000 · 8,750 · 140,000 pico-USD per token
    // input 103 with 2 cache reads → fresh 101: 3,535,000 pico → 3,535 nano
    // reads 2 × 8,750 = 17,500 pico → 17.5 nano → 18 (half up); output 7 × 140,000 = 980,000 pico → 980 nano
    const c = computeCost(
      book.resolve('aws.bedrock', 'us.amazon.nova-micro-v1:0', NOW)!,
      usage({ inputTokens: 103, cacheReadTokens: 2, outputTokens: 7 }),
    );
    expect(c).toEqual({
      inputNanos: 3_535n,
      cacheReadNanos: 18n,
      cacheWriteNanos: 0n,
      outputNanos: 980n,
      feeNanos: 0n,
      totalNanos: 4_533n,
    });
  });

  it('leaves an unknown model unpriced: null costs, never $0', () => {
    const priced = book.priceSpan(
      span({
        provider: 'openai',
        requestModel: 'acme-local-coder-7b',
        inputTokens: 100,
        outputTokens: 10,
      }),
    );
    expect(priced).toMatchObject({
      unpriced: true,
      priceId: '',
      costNanos: null,
      inputCostNanos: null,
      outputCostNanos: null,
      cacheReadCostNanos: null,
      cacheWriteCostNanos: null,
    });
    expect(
      book.priceSpan(span({ provider: '', requestModel: 'acme-local-coder-7b' })).unpriced,
    ).toBe(true);
    expect(
      book.priceSpan(span({ provider: 'anthropic', requestModel: '', responseModel: '' })).unpriced,
    ).toBe(true);
  });

  it('passes non-LLM spans through with no cost and not unpriced', () => {
    for (const spanType of ['tool', 'agent', 'other'] as const) {
      const s = span({
        spanType,
        provider: 'anthropic',
        requestModel: 'claude-sonnet-4-5',
        inputTokens: 10,
      });
      expect(book.priceSpan(s)).toEqual({
        ...s,
        priceId: '',
        costNanos: null,
        inputCostNanos: null,
        outputCostNanos: null,
        cacheReadCostNanos: null,
        cacheWriteCostNanos: null,
        unpriced: false,
      });
    }
  });
});

describe('effective-dated prices', () => {
  it('OpenAI o3 price cut of 2025-06-10: the period in force at the span start applies', () => {
    // genai-prices openai/o3: since always 10 / 0.5 / 40; from 2025-06-10: 2 / 0.5 / 8 (input / cache_read / output USD/MTok)
    // input 10,000 of which 2,000 cached, output 1,000:
    //   before: 8,000 × 10,000 + 2,000 × 500 + 1,000 × 40,000 nano = 80,000,000 + 1,000,000 + 40,000,000 = 121,000,000
    //   after:  8,000 × 2,000 + 2,000 × 500 + 1,000 × 8,000 nano   = 16,000,000 + 1,000,000 + 8,000,000  =  25,000,000
    const call = {
      provider: 'openai',
      requestModel: 'o3-2025-04-16',
      inputTokens: 10_000,
      cacheReadTokens: 2_000,
      outputTokens: 1_000,
    };
    const before = book.priceSpan(
      span({ ...call, startTimeUnixNano: startingAt('2025-06-09T23:59:59.999Z') }),
    );
    const after = book.priceSpan(
      span({ ...call, startTimeUnixNano: startingAt('2025-06-10T00:00:00.000Z') }),
    );
    expect(before).toMatchObject({ priceId: 'genai-prices:openai:o3@-', costNanos: 121_000_000n });
    expect(after).toMatchObject({
      priceId: 'genai-prices:openai:o3@2025-06-10',
      costNanos: 25_000_000n,
    });
  });

  it('Claude Sonnet 5 introductory price ended 2026-09-01 (a price rise)', () => {
    // since always 2 in / 10 out; from 2026-09-01 3 in / 15 out: 1,000 in + 1,000 out = 12,000,000 vs 18,000,000 nano
    const call = {
      provider: 'anthropic',
      requestModel: 'claude-sonnet-5',
      inputTokens: 1_000,
      outputTokens: 1_000,
    };
    expect(
      book.priceSpan(span({ ...call, startTimeUnixNano: startingAt('2026-08-31T12:00:00Z') }))
        .costNanos,
    ).toBe(12_000_000n);
    expect(
      book.priceSpan(span({ ...call, startTimeUnixNano: startingAt('2026-09-01T12:00:00Z') }))
        .costNanos,
    ).toBe(18_000_000n);
  });

  it('Claude Opus 4.6: the long-context cliff applies before 2026-03-13 and not after', () => {
    // before: 250,000 input > 200,000 → every input token at 10 USD/MTok = 2,500,000,000 nano; after: flat 5 → 1,250,000,000
    const call = { provider: 'anthropic', requestModel: 'claude-opus-4-6', inputTokens: 250_000 };
    expect(
      book.priceSpan(span({ ...call, startTimeUnixNano: startingAt('2026-03-12T23:59:00Z') })),
    ).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-opus-4-6@-',
      costNanos: 2_500_000_000n,
    });
    expect(
      book.priceSpan(span({ ...call, startTimeUnixNano: startingAt('2026-03-13T00:00:00Z') })),
    ).toMatchObject({
      priceId: 'genai-prices:anthropic:claude-opus-4-6@2026-03-13',
      costNanos: 1_250_000_000n,
    });
  });
});

describe('cost rules', () => {
  const sonnet = book.resolve('anthropic', 'claude-sonnet-4-5', NOW)!;

  it('switches every token to the tier price once input (cache included) exceeds the threshold', () => {
    expect(computeCost(sonnet, usage({ inputTokens: 200_000 })).totalNanos).toBe(600_000_000n); // 200,000 × 3,000
    expect(computeCost(sonnet, usage({ inputTokens: 200_001 })).totalNanos).toBe(1_200_006_000n); // 200,001 × 6,000
    // 200,001 input with 150,000 cache reads: fresh 50,001 × 6,000 + 150,000 × 600 = 300,006,000 + 90,000,000
    expect(
      computeCost(sonnet, usage({ inputTokens: 200_001, cacheReadTokens: 150_000 })).totalNanos,
    ).toBe(390_006_000n);
  });

  it('the tier rule is data: cliff vs marginal, cache counted or not, at 199,999 and 200,001 tokens', () => {
    expect(sonnet.tierRule).toEqual({ mode: 'cliff', cacheCountsTowardThreshold: true });
    expect(
      table.providers.every(
        (p) => p.tierRule?.mode === 'cliff' && p.tierRule.cacheCountsTowardThreshold,
      ),
    ).toBe(true);
    const at = (n: number, read = 0): bigint =>
      computeCost(sonnet, usage({ inputTokens: n, cacheReadTokens: read, outputTokens: 1_000 }))
        .totalNanos;
    // cliff, cache counted (genai-prices): 199,999 × 3,000 + 1,000 × 15,000 nano; over: every token at 6 / 22.5
    expect(at(199_999)).toBe(599_997_000n + 15_000_000n);
    expect(at(200_001)).toBe(1_200_006_000n + 22_500_000n);
    const marginal = {
      ...sonnet,
      tierRule: { mode: 'marginal' as const, cacheCountsTowardThreshold: true },
    };
    const m = (n: number): bigint =>
      computeCost(marginal, usage({ inputTokens: n, outputTokens: 1_000 })).totalNanos;
    // marginal: under the threshold nothing changes; over it, only the 1 token past 200,000 pays 6
    expect(m(199_999)).toBe(599_997_000n + 15_000_000n);
    expect(m(200_001)).toBe(600_000_000n + 6_000n + 15_000_000n);
    const freshOnly = {
      ...sonnet,
      tierRule: { mode: 'cliff' as const, cacheCountsTowardThreshold: false },
    };
    // 200,001 input of which 100,000 cache reads: fresh 100,001 is under the threshold → base prices:
    // 100,001 × 3,000 + 100,000 × 300 + 1,000 × 15,000 nano; the genai-prices rule tips it over instead:
    // 100,001 × 6,000 + 100,000 × 600 + 1,000 × 22,500
    expect(
      computeCost(
        freshOnly,
        usage({ inputTokens: 200_001, cacheReadTokens: 100_000, outputTokens: 1_000 }),
      ).totalNanos,
    ).toBe(300_003_000n + 30_000_000n + 15_000_000n);
    expect(at(200_001, 100_000)).toBe(600_006_000n + 60_000_000n + 22_500_000n);
    expect(describePrice(book, 'anthropic', 'claude-sonnet-4-5', NOW)).toContain(
      "tier rule:      cliff: once the call's input tokens (cache included) exceed a tier's start, every token pays the tier price",
    );
  });

  it('counts cache writes not split into 5m / 1h as 5-minute writes', () => {
    // 1,000 writes × 3,750 nano = 3,750,000; fresh 0
    expect(
      computeCost(sonnet, usage({ inputTokens: 1_000, cacheWriteTokens: 1_000 })),
    ).toMatchObject({ inputNanos: 0n, cacheWriteNanos: 3_750_000n });
    // 1,000 writes of which 400 reported as 1h: the other 600 are 5m: 600 × 3,750 + 400 × 6,000 = 4,650,000
    expect(
      computeCost(
        sonnet,
        usage({ inputTokens: 1_000, cacheWriteTokens: 1_000, cacheWrite1hTokens: 400 }),
      ).cacheWriteNanos,
    ).toBe(4_650_000n);
  });

  it('falls back: 1h write → 5m write price, cache prices → input price', () => {
    // Bedrock's Sonnet 4.5 row has no 1-hour price: 400 × 3,750 nano (5m price) = 1,500,000
    const bedrock = book.resolve(
      'aws.bedrock',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      NOW,
    )!;
    expect(bedrock.prices.cacheWrite1h).toBeNull();
    expect(
      computeCost(
        bedrock,
        usage({ inputTokens: 400, cacheWriteTokens: 400, cacheWrite1hTokens: 400 }),
      ).cacheWriteNanos,
    ).toBe(1_500_000n);
    // mistral codestral-latest has input 0.3 / output 0.9 and no cache prices: 1,000 fresh + 1,000 reads + 1,000 writes, each 1,000 × 300,000 pico = 300,000 nano
    const codestral = book.resolve('mistral_ai', 'codestral-latest', NOW)!;
    expect(codestral.prices.cacheRead).toBeNull();
    expect(
      computeCost(
        codestral,
        usage({ inputTokens: 3_000, cacheReadTokens: 1_000, cacheWriteTokens: 1_000 }),
      ),
    ).toEqual({
      inputNanos: 300_000n,
      cacheReadNanos: 300_000n,
      cacheWriteNanos: 300_000n,
      outputNanos: 0n,
      feeNanos: 0n,
      totalNanos: 900_000n,
    });
  });

  it('does not crash on inconsistent or malformed counts', () => {
    // More cached than input: fresh clamps to 0, cached tokens are still charged
    expect(computeCost(sonnet, usage({ inputTokens: 100, cacheReadTokens: 1_000 }))).toMatchObject({
      inputNanos: 0n,
      cacheReadNanos: 300_000n,
    });
    expect(
      computeCost(
        sonnet,
        usage({
          inputTokens: -5,
          outputTokens: Number.NaN,
          cacheReadTokens: Number.POSITIVE_INFINITY,
        }),
      ).totalNanos,
    ).toBe(0n);
    expect(computeCost(sonnet, usage({ inputTokens: 10.9, outputTokens: 1.5 })).totalNanos).toBe(
      30_000n + 15_000n,
    );
  });
});

describe('resolving provider and model names', () => {
  const id = (provider: string, model: string): string | undefined =>
    book.resolve(provider, model, NOW)?.id;

  it('maps OpenTelemetry provider names to genai-prices providers', () => {
    expect(id('anthropic', 'claude-sonnet-4-5-20250929')).toBe(
      'genai-prices:anthropic:claude-sonnet-4-5@-',
    );
    expect(id('gcp.gemini', 'gemini-2.5-pro')).toBe('genai-prices:google:gemini-2.5-pro@-');
    expect(id('gcp.vertex_ai', 'gemini-2.5-flash')).toBe('genai-prices:google:gemini-2.5-flash@-');
    expect(id('aws.bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(
      'genai-prices:aws:regional.anthropic.claude-sonnet-4-5-20250929-v1:0@-',
    );
    expect(id('x_ai', 'grok-4')).toBe('genai-prices:x-ai:grok-4-0709@-');
    expect(id('mistral_ai', 'codestral-2508')).toBe('genai-prices:mistral:codestral-2508@-');
    expect(id('openrouter', 'anthropic/claude-sonnet-4.5')).toBe(
      'genai-prices:openrouter:anthropic/claude-sonnet-4.5@-',
    );
    expect(id('Anthropic', 'Claude-Sonnet-4-5')).toBe('genai-prices:anthropic:claude-sonnet-4-5@-');
  });

  it("uses genai-prices' fallback providers: Azure resells OpenAI, Vertex resells Anthropic", () => {
    expect(id('azure.ai.openai', 'gpt-4o-2024-08-06')).toBe('genai-prices:openai:gpt-4o@-');
    expect(id('gcp.vertex_ai', 'claude-haiku-4-5@20251001')).toBe(
      'genai-prices:anthropic:claude-haiku-4-5@-',
    );
  });

  it('without a known provider, tries the model maker first, then every provider in a fixed order', () => {
    expect(id('', 'claude-sonnet-4-5-20250929')).toBe('genai-prices:anthropic:claude-sonnet-4-5@-');
    expect(id('', 'gpt-4o')).toBe('genai-prices:openai:gpt-4o@-');
    expect(id('ibm.watsonx.ai', 'gpt-4o')).toBe('genai-prices:openai:gpt-4o@-');
    expect(id('', 'llama-3.3-70b-versatile')).toBe('genai-prices:groq:llama-3.3-70b-versatile@-');
    expect(id('', 'models/gemini-2.5-pro')).toBe('genai-prices:google:gemini-2.5-pro@-');
  });

  it("with a known provider that lacks the model, falls back to the model's maker only", () => {
    expect(id('openai', 'claude-sonnet-4-5')).toBe('genai-prices:anthropic:claude-sonnet-4-5@-');
    expect(id('anthropic', 'anthropic/claude-sonnet-4-5')).toBe(
      'genai-prices:anthropic:claude-sonnet-4-5@-',
    );
    expect(id('openai', 'acme-local-coder-7b')).toBeUndefined();
    expect(id('openai', '')).toBeUndefined();
    expect(book.resolve('openai', 'gpt-4o', new Date(Number.NaN))).toBeUndefined();
  });

  it('prices by the response model, and by the request model when the response model is unknown', () => {
    const call = { provider: 'openai', inputTokens: 1_000 };
    expect(
      book.priceSpan(
        span({ ...call, requestModel: 'gpt-4o', responseModel: 'gpt-4o-mini-2024-07-18' }),
      ).priceId,
    ).toBe('genai-prices:openai:gpt-4o-mini@-');
    expect(
      book.priceSpan(span({ ...call, requestModel: 'gpt-4o', responseModel: 'gpt-4o-2099-01-01' }))
        .priceId,
    ).toBe('genai-prices:openai:gpt-4o@-');
  });

  it('returns rows that cannot be mutated', () => {
    const row = book.resolve('openai', 'gpt-4o', NOW)!;
    expect(Object.isFrozen(row) && Object.isFrozen(row.prices)).toBe(true);
  });
});
