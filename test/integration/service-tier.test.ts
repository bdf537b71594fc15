import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../pipeline/src/embedded.js';
import { loadPriceBook } from '../../pipeline/src/price/index.js';
import { generateServiceTiers } from '../../pipeline/src/price/service-tiers.js';
import { repriceStoredCosts } from '../../pipeline/src/reprice/index.js';
import type { SimpleSpan } from '../helpers/otlp-json.js';
import { queryRows, sendSpans, startTestServer } from '../helpers/server.js';

const DB = 'hm_tiers';
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer('tiers', DB);
});
afterAll(async () => {
  await server.stop();
});

const T = Date.now() - 600_000;
const call = (i: number, model: string, attrs: Record<string, string | number>): SimpleSpan => ({
  traceId: 'f'.repeat(31) + String(i),
  spanId: 'e'.repeat(15) + String(i),
  name: `chat ${model}`,
  startMs: T + i,
  attributes: {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': model,
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 100,
    ...attrs,
  },
});

describe('service tiers: batch, flex and priority processing priced from their own prices', () => {
  it('the committed table equals a fresh generation from LiteLLM', () => {
    const litellm = JSON.parse(
      readFileSync(
        new URL('../../../shared/data/litellm-model-prices.json', import.meta.url),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const committed = readFileSync(
      new URL('../../pipeline/data/service-tiers.json', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(JSON.stringify(generateServiceTiers(litellm), null, 1) + '\n');
  });

  it('prices each tier exactly at ingest, and a reprice leaves them as they are', async () => {
    const spans = [
      call(1, 'gpt-4o', { 'harness_meter.service_tier': 'batch' }), // 1,000 × 1,250 + 100 × 5,000 = 1,750,000
      call(2, 'gpt-4o', { 'openai.request.service_tier': 'priority' }), // 1,000 × 4,250 + 100 × 17,000 = 5,950,000
      call(3, 'gpt-4o', { 'openai.request.service_tier': 'auto' }), // list: 1,000 × 2,500 + 100 × 10,000 = 3,500,000
      // gpt-5 flex ($/MTok 0.625 in, 0.0625 cached, 5 out): 600 × 625 + 400 × 62.5 + 100 × 5,000 = 375,000 + 25,000 + 500,000
      call(4, 'gpt-5', {
        'openai.request.service_tier': 'flex',
        'gen_ai.usage.cache_read.input_tokens': 400,
      }),
    ];
    await sendSpans(server, spans);
    const read = () =>
      queryRows<{ price_id: string; c: string }>(
        server,
        `SELECT price_id, toString(cost_nanos) AS c FROM ${DB}.spans FINAL ORDER BY SpanId`,
      );
    const before = await read();
    expect(before.map((r) => [r.price_id, r.c])).toEqual([
      ['genai-prices:openai:gpt-4o@-+batch', '1750000'],
      ['genai-prices:openai:gpt-4o@-+priority', '5950000'],
      ['genai-prices:openai:gpt-4o@-', '3500000'],
      ['genai-prices:openai:gpt-5@-+flex', '900000'],
    ]);
    const result = await repriceStoredCosts(server.client, loadPriceBook(undefined), { db: DB });
    expect(result).toMatchObject({ scanned: 4, changed: 0 });
    expect(await read()).toEqual(before);
  });

  it('Anthropic batch: every token price halved (cache and long-context tiers too), id says +batch', async () => {
    const anthropic = (i: number, attrs: Record<string, string | number>): SimpleSpan => ({
      ...call(i, 'claude-sonnet-4-5-20250929', attrs),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5-20250929',
        ...attrs,
      },
    });
    const spans = [
      // 4,000 input = 1,000 fresh + 2,000 cache read + 1,000 cache write (5m); 500 output. Batch, $/MTok:
      // fresh 1.5, read 0.15, write 1.875, output 7.5:
      // 1,000 × 1,500,000 + 2,000 × 150,000 + 1,000 × 1,875,000 + 500 × 7,500,000 pico
      // = 1,500,000 + 300,000 + 1,875,000 + 3,750,000 = 7,425,000 nano-USD
      anthropic(5, {
        'harness_meter.service_tier': 'batch',
        'gen_ai.usage.input_tokens': 4000,
        'gen_ai.usage.output_tokens': 500,
        'gen_ai.usage.cache_read.input_tokens': 2000,
        'gen_ai.usage.cache_creation.input_tokens': 1000,
      }),
      // The same call at list prices: 3,000,000 + 600,000 + 3,750,000 + 7,500,000 = 14,850,000
      anthropic(6, {
        'gen_ai.usage.input_tokens': 4000,
        'gen_ai.usage.output_tokens': 500,
        'gen_ai.usage.cache_read.input_tokens': 2000,
        'gen_ai.usage.cache_creation.input_tokens': 1000,
      }),
      // Long context under batch: 200,001 fresh input crosses the cliff, tier 6 → 3 $/MTok, output 22.5 → 11.25:
      // 200,001 × 3,000,000 + 1,000 × 11,250,000 pico = 600,003,000 + 11,250,000 = 611,253,000 nano-USD
      anthropic(7, {
        'harness_meter.service_tier': 'batch',
        'gen_ai.usage.input_tokens': 200_001,
        'gen_ai.usage.output_tokens': 1000,
      }),
    ];
    await sendSpans(server, spans);
    const anthropicRows = await queryRows<{ price_id: string; c: string }>(
      server,
      `SELECT price_id, toString(cost_nanos) AS c FROM ${DB}.spans FINAL
       WHERE provider = 'anthropic' ORDER BY SpanId`,
    );
    expect(anthropicRows.map((r) => [r.price_id, r.c])).toEqual([
      ['genai-prices:anthropic:claude-sonnet-4-5@-+batch', '7425000'],
      ['genai-prices:anthropic:claude-sonnet-4-5@-', '14850000'],
      ['genai-prices:anthropic:claude-sonnet-4-5@-+batch', '611253000'],
    ]);
  });

  it('per-request and per-web-search fees: charged per call and per search, kept by a reprice', async () => {
    const spans: SimpleSpan[] = [
      // Claude Sonnet 4.5 with 3 web searches at $10 per 1,000: 1,000 × 3,000,000 + 100 × 15,000,000 pico
      // = 3,000,000 + 1,500,000 nano, + 3 × 10,000,000 nano = 34,500,000 nano-USD
      {
        ...call(8, 'claude-sonnet-4-5', {}),
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'anthropic',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'gen_ai.usage.input_tokens': 1000,
          'gen_ai.usage.output_tokens': 100,
          'harness_meter.usage.web_search_requests': 3,
        },
      },
      // Perplexity Sonar: $1/MTok in and out, $12 per 1,000 requests:
      // 1,000 × 1,000,000 + 100 × 1,000,000 pico = 1,100,000 nano, + 12,000,000 nano = 13,100,000
      {
        ...call(9, 'sonar', {}),
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'perplexity',
          'gen_ai.request.model': 'sonar',
          'gen_ai.usage.input_tokens': 1000,
          'gen_ai.usage.output_tokens': 100,
        },
      },
    ];
    await sendSpans(server, spans);
    const read = () =>
      queryRows<{ model: string; c: string; fees: string }>(
        server,
        `SELECT model, toString(cost_nanos) AS c,
                toString(cost_nanos - input_cost_nanos - output_cost_nanos - cache_read_cost_nanos - cache_write_cost_nanos) AS fees
         FROM ${DB}.spans FINAL WHERE model IN ('claude-sonnet-4-5', 'sonar') ORDER BY SpanId`,
      );
    const stored = await read();
    expect(stored).toEqual([
      { model: 'claude-sonnet-4-5', c: '34500000', fees: '30000000' },
      { model: 'sonar', c: '13100000', fees: '12000000' },
    ]);
    const again = await repriceStoredCosts(server.client, loadPriceBook(undefined), { db: DB });
    expect(again.changed).toBe(0);
    expect(await read()).toEqual(stored);
  });
});
