import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { openWriteAheadLog } from '../../pipeline/src/wal/log.js';
import { createWalSpanSink } from '../../pipeline/src/sink/wal-sink.js';
import { encodeSpanRecord } from '../../pipeline/src/sink/wal-records.js';
import { otlpJson, sonnetSpan, SONNET_SPAN_COST_NANOS } from '../helpers/otlp-json.js';
import { queryRows } from '../helpers/server.js';
import { pricedSpan } from '../helpers/spans.js';
import { tempDataDir } from '../helpers/store.js';

const DB = 'hm_wal_it';
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
let server: RunningServer;
let walDir: string;
let nextId = 1;

beforeAll(async () => {
  walDir = mkdtempSync(join(tmpdir(), 'hm-wal-it-log-'));
  const config = loadConfig(
    { HM_ALERTS: 'off', HM_INGEST_WAL: walDir, HM_INGEST_WAL_MAX_BYTES: String(1024 * 1024) },
    // The drain waits 30 s for more rows when the log holds little: only the read barrier can
    // make a report see spans right after their 200.
    { port: 0, dataDir: tempDataDir('wal-it'), database: DB, batchMaxWaitMs: 30_000 },
  );
  server = await startEmbedded(config, silentLogger);
}, 60_000);
afterAll(async () => {
  await server.stop();
});

/** `n` new Sonnet spans in one trace, as one OTLP/JSON request body, with their span ids. */
function request(n: number): { body: string; ids: string[] } {
  const trace = hex(nextId, 32);
  const ids = Array.from({ length: n }, () => hex(nextId++, 16));
  return {
    body: otlpJson(ids.map((id) => sonnetSpan(trace, id, Date.now() - 60_000))),
    ids,
  };
}

const post = (body: string): Promise<Response> =>
  fetch(`${server.receiver.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

async function storedCounts(ids: string[]): Promise<{ n: number; u: number }> {
  const [row] = await queryRows<{ n: string; u: string }>(
    server,
    `SELECT count() AS n, uniqExact(SpanId) AS u FROM ${DB}.spans WHERE has([${ids.map((i) => `'${i}'`).join(',')}], SpanId)`,
  );
  return { n: Number(row?.n), u: Number(row?.u) };
}

describe('ingest write-ahead log (HM_INGEST_WAL, real chDB)', () => {
  it('a report right after a 200 sees the acknowledged spans (read barrier)', async () => {
    const { body, ids } = request(40);
    const res = await post(body);
    expect(res.status).toBe(200);
    // Acknowledged, but the drain is still waiting for more: not stored yet.
    expect((await storedCounts(ids)).n).toBe(0);

    const since = new Date(Date.now() - 86_400_000).toISOString();
    const report = await fetch(
      `${server.receiver.url}/api/v1/reports/cost?by=model&since=${since}`,
    );
    expect(report.status).toBe(200);
    const json = (await report.json()) as { rows: { cost_nanos: string }[] };
    const cost = json.rows.reduce((s, r) => s + BigInt(r.cost_nanos), 0n);
    expect(cost).toBe(SONNET_SPAN_COST_NANOS * 40n);
    expect(await storedCounts(ids)).toEqual({ n: 40, u: 40 });
  });

  it('answers 503 with Retry-After above HM_INGEST_WAL_MAX_BYTES while the store is down, then stores everything once', async () => {
    await server.client.command({ query: `DETACH TABLE ${DB}.spans` });
    const acknowledged: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      const { body, ids } = request(50);
      const res = await post(body);
      await res.arrayBuffer();
      if (res.status === 200) acknowledged.push(...ids);
      else refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('2');
    // 1 MiB of log holds at least a few of these 50-span requests.
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);

    await server.client.command({ query: `ATTACH TABLE ${DB}.spans` });
    await server.sink.flush();
    expect(await storedCounts(acknowledged)).toEqual({
      n: acknowledged.length,
      u: acknowledged.length,
    });
    const after = request(10);
    expect((await post(after.body)).status).toBe(200);
    await server.sink.flush();
    expect(await storedCounts(after.ids)).toEqual({ n: 10, u: 10 });
  }, 60_000);

  it('a row the store refuses goes to rejected_spans; the rest of the batch is stored', async () => {
    // A real refusal by ClickHouse: a CHECK constraint on the spans table (test-only).
    await server.client.command({
      query: `ALTER TABLE ${DB}.spans ADD CONSTRAINT hm_test_refuse CHECK SpanName != 'refuse-me'`,
    });
    try {
      const trace = hex(nextId, 32);
      const ids = Array.from({ length: 6 }, () => hex(nextId++, 16));
      const spans = ids.map((id) => sonnetSpan(trace, id, Date.now() - 60_000));
      spans[3]!.name = 'refuse-me';
      const res = await post(otlpJson(spans));
      expect(res.status).toBe(200);
      await server.sink.flush();
      expect(await storedCounts(ids)).toEqual({ n: 5, u: 5 });
      const dead = await queryRows<{ stage: string; span_id: string; sample: string }>(
        server,
        `SELECT stage, span_id, sample FROM ${DB}.rejected_spans`,
      );
      expect(dead).toHaveLength(1);
      expect(dead[0]?.stage).toBe('sink');
      expect(dead[0]?.span_id).toBe(ids[3]);
      expect(JSON.parse(dead[0]!.sample)).toMatchObject({ SpanName: 'refuse-me', SpanId: ids[3] });
    } finally {
      await server.client.command({
        query: `ALTER TABLE ${DB}.spans DROP CONSTRAINT hm_test_refuse`,
      });
    }
  });

  it('replaying records already stored (inserted, checkpoint not recorded) stores nothing twice', async () => {
    // Ids of their own (the requests above use small counters too).
    const span = (i: number, costNanos: bigint) =>
      pricedSpan({
        traceId: `ab${hex(i, 30)}`,
        spanId: `ab${hex(i, 14)}`,
        spanType: 'llm',
        costNanos,
        pr: 41,
      });
    const old = [span(1, 1000n), span(2, 2000n)];
    const fresh = span(3, 4000n);
    const rollup = async (): Promise<{ spans: number; cost: number; calls: number }> => {
      const [r] = await queryRows<{ spans: string; cost: string; calls: string }>(
        server,
        `SELECT (SELECT count() FROM ${DB}.spans WHERE pr = 41) AS spans,
                sum(cost_nanos) AS cost, sum(llm_calls) + sum(tool_calls) AS calls
         FROM ${DB}.usage_by_minute WHERE pr = 41`,
      );
      return { spans: Number(r?.spans), cost: Number(r?.cost), calls: Number(r?.calls) };
    };
    const write = async (dir: string, records: Buffer[]): Promise<void> => {
      const { log } = await openWriteAheadLog(dir);
      for (const r of records) await log.append(r);
      const sink = createWalSpanSink(server.client, { db: DB, log, maxWaitMs: 10 });
      await sink.flush();
      await sink.close();
    };
    await write(mkdtempSync(join(tmpdir(), 'hm-wal-replay-a-')), [encodeSpanRecord(old)]);
    const first = await rollup();
    expect(first.spans).toBe(2);
    expect(first.cost).toBe(3000);
    // The same record twice more (a replay from behind the store), and one new span beside it.
    await write(mkdtempSync(join(tmpdir(), 'hm-wal-replay-b-')), [
      encodeSpanRecord(old),
      encodeSpanRecord([old[1]!, fresh]),
    ]);
    const second = await rollup();
    expect(second.spans).toBe(3);
    expect(second.cost).toBe(7000);
    expect(second.calls - first.calls).toBe(1);
  });
});
