import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costBy,
  costDrift,
  costPerPr,
  migrateUp,
  unpricedModels,
  type ClickHouseClient,
} from '@harness-meter/queries';
import type { PricedSpan } from '../../pipeline/src/model.js';
import {
  createPriceBook,
  loadBundledPriceTable,
  parsePriceOverrides,
} from '../../pipeline/src/price/index.js';
import { repriceStoredCosts } from '../../pipeline/src/reprice/index.js';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';

const DB = 'hm_pricing_test';
let client: ClickHouseClient;
const table = loadBundledPriceTable();
const bundled = createPriceBook(table);

beforeAll(async () => {
  ({ client } = await openTempStore('pricing'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const ctx = { repo: 'https://github.com/acme/api', developer: 'ana', team: 'core', pr: 12 };
/** An LLM call priced by `book` exactly as the pipeline does at ingest. */
const call = (book = bundled, o: Partial<PricedSpan>): PricedSpan =>
  book.priceSpan(pricedSpan({ ...ctx, spanType: 'llm', sessionId: 's1', ...o }));

async function store(spans: PricedSpan[]): Promise<void> {
  const sink = createSpanSink(client, { db: DB, maxWaitMs: 10 });
  await sink.write(spans);
  await sink.close();
}

const OCT = { since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-11-01T00:00:00Z') };
const NOV = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };

describe('cost-drift report (real ClickHouse engine via chDB)', () => {
  it('finds reported costs that differ from the computed ones, with the reason, by hand', async () => {
    const t = at('2026-10-15T09:00:00Z');
    const sonnet = {
      provider: 'anthropic',
      requestModel: 'claude-sonnet-4-5',
      startTimeUnixNano: t,
    };
    await store([
      // Computed (claude-sonnet-4-5: input 3, cache read 0.3, output 15 USD/MTok):
      //   fresh  2,000 × 3,000,000 pico = 6,000,000 nano; cache read 8,000 × 300,000 = 2,400,000 nano;
      //   output 1,000 × 15,000,000 = 15,000,000 nano → 23,400,000 nano.
      // Reported as if the 10,000 input tokens were all fresh: 30,000,000 + 15,000,000 = 45,000,000.
      call(bundled, {
        ...sonnet,
        inputTokens: 10_000,
        cacheReadTokens: 8_000,
        outputTokens: 1_000,
        reportedCostNanos: 45_000_000n,
      }),
      // Computed 1,000 × 3,000,000 + 100 × 15,000,000 = 3,000,000 + 1,500,000 = 4,500,000 nano;
      // reported 4,520,000: 20,000 more = 0.44% (inside the default 1%, outside 0.1%).
      call(bundled, {
        ...sonnet,
        inputTokens: 1_000,
        outputTokens: 100,
        reportedCostNanos: 4_520_000n,
      }),
      // Long context, cliff tier (input 6, output 22.5 above 200k): 300,000 × 6,000,000 pico =
      // 1,800,000,000 nano + 1,000 × 22,500,000 = 22,500,000 → 1,822,500,000 nano; reported at the
      // base prices: 900,000,000 + 15,000,000 = 915,000,000 → drift −907,500,000.
      call(bundled, {
        ...sonnet,
        inputTokens: 300_000,
        outputTokens: 1_000,
        reportedCostNanos: 915_000_000n,
      }),
      // No price at all: the whole reported 1,000,000 nano is drift, computed 0.
      call(bundled, {
        provider: 'acme',
        requestModel: 'mystery-1',
        startTimeUnixNano: t,
        inputTokens: 50,
        reportedCostNanos: 1_000_000n,
      }),
      // Exactly as computed: never listed.
      call(bundled, {
        ...sonnet,
        inputTokens: 1_000,
        outputTokens: 100,
        reportedCostNanos: 4_500_000n,
      }),
    ]);
    const rows = await costDrift(client, { db: DB, ...OCT });
    expect(
      rows.map((r) => [
        r.model,
        r.reason,
        r.calls,
        r.reported_nanos,
        r.computed_nanos,
        r.drift_nanos,
      ]),
    ).toEqual([
      ['claude-sonnet-4-5', 'tier', 1, '915000000', '1822500000', '-907500000'],
      ['claude-sonnet-4-5', 'cache accounting', 1, '45000000', '23400000', '21600000'],
      ['mystery-1', 'missing price', 1, '1000000', '0', '1000000'],
    ]);
    expect(rows[1]?.drift_usd).toBe(0.0216);
    const strict = await costDrift(client, { db: DB, tolerancePercent: 0.1, ...OCT });
    expect(strict.find((r) => r.reason === 'other')).toMatchObject({
      calls: 1,
      reported_nanos: '4520000',
      computed_nanos: '4500000',
      drift_nanos: '20000',
    });
    await expect(costDrift(client, { db: DB, tolerancePercent: -1, ...OCT })).rejects.toThrow(
      /Tolerance/,
    );
  });
});

describe('unpriced at ingest, added by an override, filled by reprice (sink → chDB → reprice → reports)', () => {
  const t = at('2026-11-20T10:00:30Z');
  const acme = { provider: 'acme', requestModel: 'acme-coder-70b', startTimeUnixNano: t };
  const sonnet = { provider: 'anthropic', requestModel: 'claude-sonnet-4-5', startTimeUnixNano: t };

  it('stores the unknown model unpriced and lists it in the unpriced report', async () => {
    await store([
      call(bundled, { ...acme, inputTokens: 10_000, cacheReadTokens: 4_000, outputTokens: 2_000 }),
      call(bundled, {
        ...acme,
        inputTokens: 1_000,
        outputTokens: 500,
        startTimeUnixNano: t + 60_000_000_000n,
      }),
      // 1,000 × 3,000,000 + 100 × 15,000,000 pico = 3,000,000 + 1,500,000 = 4,500,000 nano
      call(bundled, { ...sonnet, inputTokens: 1_000, outputTokens: 100 }),
      pricedSpan({ ...ctx, spanType: 'tool', toolName: 'Read', startTimeUnixNano: t }),
    ]);
    expect(await unpricedModels(client, { db: DB, ...NOV })).toEqual([
      {
        model: 'acme-coder-70b',
        provider: 'acme',
        calls: 2,
        input_tokens: 11_000,
        output_tokens: 2_500,
        cache_read_tokens: 4_000,
        cache_write_tokens: 0,
        first_seen: '2026-11-20 10:00:30.000000000',
        last_seen: '2026-11-20 10:01:30.000000000',
      },
    ]);
    const [total] = await costPerPr(client, { db: DB, ...NOV });
    expect(total).toMatchObject({
      llm_calls: 3,
      tool_calls: 1,
      cost_nanos: '4500000',
      unpriced_calls: 2,
    });
  });

  it('reprices with the overrides: exact deltas, reports show the new totals, a second run changes 0', async () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          models: [
            { provider: 'acme', id: 'acme-coder-70b', prices: { input: '0.2', output: '0.6' } },
          ],
          discounts: [{ provider: 'anthropic', percent: 10 }],
        },
        'prices.json',
      ),
    );
    // acme call 1: fresh 6,000 × 200,000 pico = 1,200,000 nano; cache read 4,000 at the input price
    //   = 800,000 nano; output 2,000 × 600,000 = 1,200,000 nano → 3,200,000 nano
    // acme call 2: 1,000 × 200,000 = 200,000 nano + 500 × 600,000 = 300,000 nano → 500,000 nano
    // sonnet −10%: 1,000 × 2,700,000 = 2,700,000 + 100 × 13,500,000 = 1,350,000 → 4,050,000 (−450,000)
    // delta: 3,200,000 + 500,000 − 450,000 = +3,250,000 nano; new total 3,700,000 + 4,050,000 = 7,750,000
    const first = await repriceStoredCosts(client, book, {
      db: DB,
      since: NOV.since,
      batchSize: 1,
    });
    expect(first).toEqual({
      scanned: 3,
      changed: 3,
      nowPriced: 2,
      nowUnpriced: 0,
      deltaNanos: 3_250_000n,
      pages: 3,
    });
    const [total] = await costPerPr(client, { db: DB, ...NOV });
    expect(total).toMatchObject({
      llm_calls: 3,
      tool_calls: 1,
      input_tokens: 12_000,
      cost_nanos: '7750000',
      unpriced_calls: 0,
    });
    const byModel = await costBy(client, { db: DB, by: 'model', ...NOV });
    expect(byModel.map((r) => [r.key, r.llm_calls, r.cost_nanos, r.unpriced_calls])).toEqual([
      ['claude-sonnet-4-5', 1, '4050000', 0],
      ['acme-coder-70b', 2, '3700000', 0],
      ['', 0, '0', 0],
    ]);
    expect(await unpricedModels(client, { db: DB, ...NOV })).toEqual([]);
    // October (cost-drift calls) was outside --since: untouched.
    expect((await costPerPr(client, { db: DB, ...OCT }))[0]?.unpriced_calls).toBe(1);

    const second = await repriceStoredCosts(client, book, { db: DB, since: NOV.since });
    expect(second).toMatchObject({ scanned: 3, changed: 0, deltaNanos: 0n });

    // Raw usage untouched; the stored version names the override row; merges keep the sums exact.
    await client.command({ query: `OPTIMIZE TABLE ${DB}.spans FINAL` });
    await client.command({ query: `OPTIMIZE TABLE ${DB}.usage_by_minute FINAL` });
    const rs = await client.query({
      query: `SELECT price_id, toString(cost_nanos) AS c, input_tokens, cache_read_tokens, row_version, toString(prev_cost_nanos) AS p
              FROM ${DB}.spans WHERE model = 'acme-coder-70b' ORDER BY input_tokens DESC`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      {
        price_id: 'override:acme:acme-coder-70b@-',
        c: '3200000',
        input_tokens: '10000',
        cache_read_tokens: '4000',
        row_version: 1,
        p: null,
      },
      {
        price_id: 'override:acme:acme-coder-70b@-',
        c: '500000',
        input_tokens: '1000',
        cache_read_tokens: '0',
        row_version: 1,
        p: null,
      },
    ]);
    expect((await costPerPr(client, { db: DB, ...NOV }))[0]).toMatchObject({
      cost_nanos: '7750000',
      unpriced_calls: 0,
      llm_calls: 3,
    });
  });

  it('reprices again when the overrides change, and --model limits the run', async () => {
    const book = createPriceBook(
      table,
      parsePriceOverrides(
        {
          models: [
            { provider: 'acme', id: 'acme-coder-70b', prices: { input: '0.4', output: '0.6' } },
          ],
        },
        'prices.json',
      ),
    );
    // Only acme: input doubles to 400,000 pico/token. Call 1: 6,000 + 4,000 (cache at input) = 10,000
    // × 400,000 = 4,000,000 nano + 1,200,000 = 5,200,000 (+2,000,000); call 2: 1,000 × 400,000 =
    // 400,000 + 300,000 = 700,000 (+200,000). Sonnet keeps its discounted price (not selected).
    const r = await repriceStoredCosts(client, book, { db: DB, model: 'acme-coder-70b' });
    expect(r).toMatchObject({ scanned: 2, changed: 2, nowPriced: 0, deltaNanos: 2_200_000n });
    const byModel = await costBy(client, { db: DB, by: 'model', ...NOV });
    expect(byModel.find((x) => x.key === 'acme-coder-70b')?.cost_nanos).toBe('5900000');
    expect(byModel.find((x) => x.key === 'claude-sonnet-4-5')?.cost_nanos).toBe('4050000');
  });
});
