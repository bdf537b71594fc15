import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costBy, costPerPr, migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSpanSink, type SpanSink } from '../../pipeline/src/sink/sink.js';
import { nanosToDateTime64 } from '../../pipeline/src/sink/rows.js';
import { openTempStore } from '../helpers/store.js';
import { pricedSpan } from '../helpers/spans.js';

const DB = 'hm_sink_test';
let client: ClickHouseClient;
const window = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };

beforeAll(async () => {
  ({ client } = await openTempStore('sink'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

const ctx = { repo: 'https://github.com/acme/api', developer: 'ana', team: 'core', source: 'sdk' };
const llm = (pr: number, session: string, costNanos: bigint | null, tokens: number) =>
  pricedSpan({
    ...ctx,
    pr,
    sessionId: session,
    spanType: 'llm',
    provider: 'anthropic',
    requestModel: 'claude-sonnet-4-5',
    responseModel: costNanos === null ? 'mystery-model' : 'claude-sonnet-4-5',
    inputTokens: tokens,
    outputTokens: 10,
    cacheReadTokens: 5,
    cacheWriteTokens: 3,
    costNanos,
    priceId: costNanos === null ? '' : 'p1',
    unpriced: costNanos === null,
  });

describe('span sink and cost reports (real ClickHouse engine via chDB)', () => {
  it('formats DateTime64(9) exactly', () => {
    expect(nanosToDateTime64(1_763_632_800_123_456_789n)).toBe('2025-11-20 10:00:00.123456789');
  });

  it('stores each span once even when delivered twice, and reports exact sums', async () => {
    const sink = createSpanSink(client, { db: DB, maxSpans: 3, maxWaitMs: 20 });
    const a1 = llm(7, 's1', 1_000_000_123n, 100);
    const a2 = llm(7, 's2', 2_000_000_000n, 200);
    const b1 = llm(8, 's3', 500n, 50);
    const unpriced = llm(8, 's3', null, 1000);
    const tool = pricedSpan({
      ...ctx,
      pr: 8,
      sessionId: 's3',
      spanType: 'tool',
      toolName: 'Read',
      resultTokens: 42,
    });
    const first = await sink.write([a1, a2, b1, unpriced, tool]);
    expect(first).toEqual({ inserted: 5, duplicates: 0, refused: 0, reasons: [] });
    // Redelivery: the same spans again, in one batch with a duplicate inside it too.
    const again = await sink.write([a1, a1, b1, tool]);
    expect(again).toEqual({ inserted: 0, duplicates: 4, refused: 0, reasons: [] });
    await sink.close();

    const rows = await costPerPr(client, { db: DB, ...window });
    const pr7 = rows.find((r) => r.pr === 7);
    const pr8 = rows.find((r) => r.pr === 8);
    expect(pr7).toMatchObject({
      sessions: 2,
      llm_calls: 2,
      tool_calls: 0,
      input_tokens: 300,
      output_tokens: 20,
      cache_read_tokens: 10,
      cache_write_tokens: 6,
      cost_nanos: '3000000123',
      unpriced_calls: 0,
    });
    expect(pr7?.cost_usd).toBe(3.000000123);
    expect(pr8).toMatchObject({
      sessions: 1,
      llm_calls: 2,
      tool_calls: 1,
      input_tokens: 1050,
      cost_nanos: '500',
      unpriced_calls: 1,
    });
    expect(rows[0]?.pr).toBe(7); // most expensive first

    const byModel = await costBy(client, { db: DB, by: 'model', ...window });
    expect(byModel.find((r) => r.key === 'mystery-model')).toMatchObject({
      llm_calls: 1,
      cost_nanos: '0',
      unpriced_calls: 1,
    });
    expect(byModel.find((r) => r.key === 'claude-sonnet-4-5')).toMatchObject({
      llm_calls: 3,
      cost_nanos: '3000000623',
    });

    const rs = await client.query({
      query: `SELECT count() AS n FROM ${DB}.spans`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '5' }]);
  });

  it('bounds the window: spans outside [since, until) are not counted', async () => {
    const rows = await costPerPr(client, {
      db: DB,
      since: new Date('2026-11-21T00:00:00Z'),
      until: new Date('2026-12-01T00:00:00Z'),
    });
    expect(rows).toEqual([]);
  });

  it('rejects writes beyond the queue bound with a retriable error', async () => {
    const sink = createSpanSink(client, {
      db: DB,
      maxSpans: 1000,
      maxWaitMs: 10_000,
      maxQueuedSpans: 2,
    });
    const pending = sink.write([llm(9, 's9', 1n, 1)]);
    await expect(sink.write([llm(9, 's9', 1n, 1), llm(9, 's9', 1n, 1)])).rejects.toMatchObject({
      code: 'SINK_FAILED',
      retriable: true,
    });
    await sink.close();
    await expect(pending).resolves.toEqual({
      inserted: 1,
      duplicates: 0,
      refused: 0,
      reasons: [],
    });
  });

  it('counts the batch being stored against the queue bound', async () => {
    const sink = createSpanSink(client, { db: DB, maxSpans: 1, maxQueuedSpans: 2 });
    const storing = sink.write([llm(11, 's11', 1n, 1), llm(11, 's11', 1n, 1)]);
    await expect(sink.write([llm(11, 's11', 1n, 1)])).rejects.toMatchObject({
      code: 'SINK_FAILED',
      retriable: true,
    });
    await expect(storing).resolves.toMatchObject({ inserted: 2 });
    await sink.close();
  });

  it('stores the writes that queued up during an insert together, in the next insert', async () => {
    const sink = createSpanSink(client, { db: DB, maxSpans: 1 });
    const writes = [sink.write([llm(12, 's12', 1n, 1)])];
    for (let i = 0; i < 10; i++) writes.push(sink.write([llm(12, 's12', 1n, 1)]));
    const results = await Promise.all(writes);
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(11);
    expect(sink.storedBatches()).toBe(2);
    await sink.close();
  });

  it('with the key filter, a redelivered span still counts once, before and after the filter is seeded', async () => {
    const spans = [llm(13, 's13', 7n, 2), llm(13, 's13', 7n, 3)];
    const first = createSpanSink(client, { db: DB, keyFilter: true });
    expect(await first.write(spans)).toMatchObject({ inserted: 2, duplicates: 0 });
    await first.close();
    let seeded!: (n: number) => void;
    const seededKeys = new Promise<number>((resolve) => (seeded = resolve));
    const second = createSpanSink(client, {
      db: DB,
      keyFilter: { bits: 4096 },
      onKeyFilterSeeded: (n) => seeded(n),
    });
    // Most likely before the seed (looked up in the store); right either way.
    expect(await second.write(spans)).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(await seededKeys).toBeGreaterThanOrEqual(2);
    // After the seed: the filter says "maybe", the store says stored.
    expect(await second.write(spans)).toMatchObject({ inserted: 0, duplicates: 2 });
    // A new span is stored without a lookup, and counts once when sent again.
    const fresh = llm(13, 's13', 7n, 4);
    expect(await second.write([fresh])).toMatchObject({ inserted: 1 });
    expect(await second.write([fresh])).toMatchObject({ inserted: 0, duplicates: 1 });
    await second.close();
    const rs = await client.query({
      query: `SELECT count() AS n FROM ${DB}.spans WHERE pr = 13`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '3' }]);
  });

  it('keeps the key filter across a clean stop, and seeds only the spans written since', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hm-sink-filter-')), 'key-filter.bin');
    const messages: string[] = [];
    const note = (m: string): void => void messages.push(m);
    const logger = { debug: note, info: note, warn: note, error: note };
    const open = async (): Promise<SpanSink> => {
      let seeded!: () => void;
      const ready = new Promise<void>((resolve) => (seeded = resolve));
      const sink = createSpanSink(client, {
        db: DB,
        keyFilter: { bits: 1 << 16 },
        savedFilter: file,
        onKeyFilterSeeded: () => seeded(),
        logger,
      });
      await ready;
      return sink;
    };
    const spans = [llm(14, 's14', 7n, 2), llm(14, 's14', 7n, 3)];
    const first = await open();
    expect(await first.write(spans)).toMatchObject({ inserted: 2 });
    await first.close();
    expect(existsSync(file)).toBe(true);

    messages.length = 0;
    const second = await open();
    expect(messages).toContain('sink key filter loaded from its last save');
    // The loaded filter holds the stored keys: a redelivery is found (not taken as new).
    expect(await second.write(spans)).toMatchObject({ inserted: 0, duplicates: 2 });
    await second.close();

    // Written while "stopped" (another writer), then merged with the older spans: the next start
    // loads the filter and seeds the spans of the parts holding newer blocks.
    const other = createSpanSink(client, { db: DB });
    const late = llm(14, 's14', 7n, 4);
    expect(await other.write([late])).toMatchObject({ inserted: 1 });
    await other.close();
    await client.command({ query: `OPTIMIZE TABLE ${DB}.spans FINAL` });
    messages.length = 0;
    const third = await open();
    expect(messages).toContain('sink key filter loaded from its last save');
    expect(await third.write([late, ...spans])).toMatchObject({ inserted: 0, duplicates: 3 });
    await third.close();
  });

  it('after a crash, the filter saved while running plus the spans stored since find every redelivery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-sink-filter-'));
    const file = join(dir, 'key-filter.bin');
    const atCrash = join(dir, 'at-crash.bin');
    const open = async (savedFilter: string, saveEveryMs?: number): Promise<SpanSink> => {
      let seeded!: () => void;
      const ready = new Promise<void>((resolve) => (seeded = resolve));
      const sink = createSpanSink(client, {
        db: DB,
        keyFilter: { bits: 1 << 16 },
        savedFilter,
        ...(saveEveryMs === undefined ? {} : { saveEveryMs }),
        onKeyFilterSeeded: () => seeded(),
      });
      await ready;
      return sink;
    };
    const early = [llm(15, 's15', 7n, 2), llm(15, 's15', 7n, 3)];
    const running = await open(file, 20);
    expect(await running.write(early)).toMatchObject({ inserted: 2 });
    // The periodic save (no clean stop): wait until it holds the early spans, keep that copy.
    for (let i = 0; i < 200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    copyFileSync(file, atCrash);
    // Stored after that save; then the store merges them with the early ones.
    const after = [llm(15, 's15', 7n, 4), llm(15, 's15', 7n, 5), llm(15, 's15', 7n, 6)];
    expect(await running.write(after)).toMatchObject({ inserted: 3 });
    await running.close();
    await client.command({ query: `OPTIMIZE TABLE ${DB}.spans FINAL` });
    // The restart after the "crash" has only the copy taken before `after` was stored.
    const restarted = await open(atCrash);
    expect(await restarted.write([...after, ...early])).toMatchObject({
      inserted: 0,
      duplicates: 5,
    });
    await restarted.close();
    const rs = await client.query({
      query: `SELECT count() AS n FROM ${DB}.spans WHERE pr = 15`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ n: '5' }]);
  });
});
