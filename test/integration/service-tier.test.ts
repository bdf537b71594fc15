import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { loadPriceBook } from '../../pipeline/src/price/index.js';
import { generateServiceTiers } from '../../pipeline/src/price/service-tiers.js';
import { repriceStoredCosts } from '../../pipeline/src/reprice/index.js';
import { otlpJson, type SimpleSpan } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_tiers';
let server: RunningServer;
beforeAll(async () => {
  server = await startEmbedded(
    loadConfig({}, { port: 0, dataDir: tempDataDir('tiers'), database: DB, batchMaxWaitMs: 10 }),
    silentLogger,
  );
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
    const res = await fetch(`${server.receiver.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: otlpJson(spans),
    });
    expect(res.status).toBe(200);
    await server.sink.flush();
    const read = async () => {
      const rs = await server.client.query({
        query: `SELECT SpanId AS s, price_id, toString(cost_nanos) AS c FROM ${DB}.spans FINAL ORDER BY SpanId`,
        format: 'JSONEachRow',
      });
      return rs.json<{ s: string; price_id: string; c: string }>();
    };
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
});
