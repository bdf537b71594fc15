/**
 * The golden cases of the pricing issue, computed by hand from the provider tables, sent as OTLP
 * spans through the receiver (decode → price → sink) into ClickHouse (chDB), and read back from
 * the stored rows and from the cost report, in integer nano-USD. The pure-function versions are in
 * test/unit/price*.test.ts; batch and fee cases in service-tier.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costBy } from '@harness-meter/queries';
import type { RunningServer } from '../../pipeline/src/embedded.js';
import type { SimpleSpan } from '../helpers/otlp-json.js';
import { queryRows, sendSpans, startTestServer } from '../helpers/server.js';

const DB = 'hm_golden';
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer('golden', DB);
});
afterAll(async () => {
  await server.stop();
});

interface Golden {
  name: string;
  at: string;
  provider: string;
  model: string;
  usage: Record<string, number>;
  priceId: string;
  costNanos: string;
}

const NOV = '2026-11-20T10:00:00Z';
const GOLDEN: Golden[] = [
  {
    // $/MTok 3 in, 0.3 read, 3.75 write 5m, 6 write 1h, 15 out; fresh 1,200:
    // 1,200 × 3,000,000 + 8,000 × 300,000 + 600 × 3,750,000 + 400 × 6,000,000 + 350 × 15,000,000 pico
    // = 3,600,000 + 2,400,000 + 2,250,000 + 2,400,000 + 5,250,000 nano
    name: 'Claude Sonnet 4.5: 5-minute and 1-hour cache writes and cache reads',
    at: NOV,
    provider: 'anthropic',
    model: 'claude-sonnet-4-5-20250929',
    usage: {
      'gen_ai.usage.input_tokens': 10_200,
      'gen_ai.usage.cache_read.input_tokens': 8_000,
      'gen_ai.usage.cache_creation.input_tokens': 1_000,
      'harness_meter.usage.cache_creation_5m.input_tokens': 600,
      'harness_meter.usage.cache_creation_1h.input_tokens': 400,
      'gen_ai.usage.output_tokens': 350,
      'gen_ai.usage.reasoning.output_tokens': 120,
    },
    priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
    costNanos: '15900000',
  },
  {
    name: 'long context just under the threshold: 199,999 input at 3 $/MTok',
    at: NOV,
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: { 'gen_ai.usage.input_tokens': 199_999, 'gen_ai.usage.output_tokens': 0 },
    priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
    costNanos: '599997000', // 199,999 × 3,000,000 pico
  },
  {
    name: 'long context just over: 200,001 input, every token at 6 $/MTok (cliff)',
    at: NOV,
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: { 'gen_ai.usage.input_tokens': 200_001, 'gen_ai.usage.output_tokens': 0 },
    priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
    costNanos: '1200006000', // 200,001 × 6,000,000 pico
  },
  {
    // fresh 50,001 alone is under 200k; with 150,000 cache reads the input crosses it:
    // 50,001 × 6,000,000 + 150,000 × 600,000 pico = 300,006,000 + 90,000,000 nano
    name: 'cache tokens tip the call over the threshold',
    at: NOV,
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    usage: {
      'gen_ai.usage.input_tokens': 200_001,
      'gen_ai.usage.cache_read.input_tokens': 150_000,
      'gen_ai.usage.output_tokens': 0,
    },
    priceId: 'genai-prices:anthropic:claude-sonnet-4-5@-',
    costNanos: '390006000',
  },
  {
    name: 'Claude Opus 4.6 before 2026-03-13: 250,000 input over the cliff at 10 $/MTok',
    at: '2026-03-12T23:59:00Z',
    provider: 'anthropic',
    model: 'claude-opus-4-6',
    usage: { 'gen_ai.usage.input_tokens': 250_000, 'gen_ai.usage.output_tokens': 0 },
    priceId: 'genai-prices:anthropic:claude-opus-4-6@-',
    costNanos: '2500000000',
  },
  {
    name: 'the same call from 2026-03-13: the long-context premium ended, 5 $/MTok',
    at: '2026-03-13T00:00:00Z',
    provider: 'anthropic',
    model: 'claude-opus-4-6',
    usage: { 'gen_ai.usage.input_tokens': 250_000, 'gen_ai.usage.output_tokens': 0 },
    priceId: 'genai-prices:anthropic:claude-opus-4-6@2026-03-13',
    costNanos: '1250000000',
  },
  {
    // o3 from 2025-06-10: 2 in, 0.5 cached, 8 out; reasoning (600) is inside the 1,000 output:
    // 8,000 × 2,000,000 + 2,000 × 500,000 + 1,000 × 8,000,000 pico = 16,000,000 + 1,000,000 + 8,000,000
    name: 'OpenAI reasoning model with reasoning tokens and cached input',
    at: '2025-07-01T00:00:00Z',
    provider: 'openai',
    model: 'o3-2025-04-16',
    usage: {
      'gen_ai.usage.input_tokens': 10_000,
      'gen_ai.usage.cache_read.input_tokens': 2_000,
      'gen_ai.usage.output_tokens': 1_000,
      'gen_ai.usage.reasoning.output_tokens': 600,
    },
    priceId: 'genai-prices:openai:o3@2025-06-10',
    costNanos: '25000000',
  },
  {
    // Gemini 2.5 Pro above 200k: 2.5 in, 0.25 cached, 15 out:
    // 200,000 × 2,500,000 + 50,000 × 250,000 + 1,000 × 15,000,000 pico = 500,000,000 + 12,500,000 + 15,000,000
    name: 'Gemini tiered model over its threshold, on Vertex AI',
    at: NOV,
    provider: 'gcp.vertex_ai',
    model: 'gemini-2.5-pro',
    usage: {
      'gen_ai.usage.input_tokens': 250_000,
      'gen_ai.usage.cache_read.input_tokens': 50_000,
      'gen_ai.usage.output_tokens': 1_000,
    },
    priceId: 'genai-prices:google:gemini-2.5-pro@-',
    costNanos: '527500000',
  },
  {
    // Bedrock regional endpoint: list + 10%, 3.3 in, 16.5 out: 1,000 × 3,300,000 + 100 × 16,500,000 pico
    name: 'a Bedrock id resolves to the Bedrock row',
    at: NOV,
    provider: 'aws.bedrock',
    model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    usage: { 'gen_ai.usage.input_tokens': 1_000, 'gen_ai.usage.output_tokens': 100 },
    priceId: 'genai-prices:aws:regional.anthropic.claude-sonnet-4-5-20250929-v1:0@-',
    costNanos: '4950000',
  },
  {
    name: 'an OpenRouter name resolves to the OpenRouter row',
    at: NOV,
    provider: 'openrouter',
    model: 'anthropic/claude-sonnet-4.5',
    usage: { 'gen_ai.usage.input_tokens': 1_000, 'gen_ai.usage.output_tokens': 100 },
    priceId: 'genai-prices:openrouter:anthropic/claude-sonnet-4.5@-',
    costNanos: '4500000', // 1,000 × 3,000,000 + 100 × 15,000,000 pico
  },
];

const hex = (i: number, w: number): string => i.toString(16).padStart(w, '0');
const span = (g: Golden, i: number): SimpleSpan => ({
  traceId: hex(0x601d + i, 32),
  spanId: hex(0x601d + i, 16),
  name: `chat ${g.model}`,
  startMs: Date.parse(g.at),
  attributes: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': g.provider,
    'gen_ai.request.model': g.model,
    ...g.usage,
  },
});

describe('golden costs through the stored data path (OTLP → receiver → price → chDB)', () => {
  it('stores each golden call with its price row and its exact cost', async () => {
    await sendSpans(server, GOLDEN.map(span));
    const stored = await queryRows<{ price_id: string; cost: string }>(
      server,
      `SELECT price_id, toString(cost_nanos) AS cost FROM ${DB}.spans FINAL ORDER BY SpanId`,
    );
    expect(stored.map((r) => [r.price_id, r.cost])).toEqual(
      GOLDEN.map((g) => [g.priceId, g.costNanos]),
    );
  });

  it('the cost report sums them exactly, per model', async () => {
    const rows = await costBy(server.client, {
      db: DB,
      by: 'model',
      since: new Date('2025-01-01T00:00:00Z'),
      until: new Date('2027-01-01T00:00:00Z'),
    });
    const expected = new Map<string, bigint>();
    for (const g of GOLDEN) {
      // The stored model is the response model, else the requested one: here the name sent.
      expected.set(g.model, (expected.get(g.model) ?? 0n) + BigInt(g.costNanos));
    }
    expect(rows.reduce((n, r) => n + BigInt(r.cost_nanos), 0n)).toBe(
      GOLDEN.reduce((n, g) => n + BigInt(g.costNanos), 0n),
    );
    expect(rows.every((r) => r.unpriced_calls === 0)).toBe(true);
    expect(Object.fromEntries(rows.map((r) => [r.key, r.cost_nanos]))).toEqual(
      Object.fromEntries([...expected].map(([k, v]) => [k, v.toString()])),
    );
  });
});
