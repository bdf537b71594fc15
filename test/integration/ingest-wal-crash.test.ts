import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '@harness-meter/queries';
import { encodeFrame } from '../../pipeline/src/wal/frame.js';
import { encodeSpanRecord } from '../../pipeline/src/sink/wal-records.js';
import { freePort, startServerProcess, waitForExit } from '../helpers/cli.js';
import { otlpJson, sonnetSpan } from '../helpers/otlp-json.js';
import { pricedSpan } from '../helpers/spans.js';
import { tempDataDir } from '../helpers/store.js';

const dataDir = tempDataDir('wal-crash');
const walDir = join(dataDir, 'ingest-wal');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

async function start(): Promise<Awaited<ReturnType<typeof startServerProcess>>> {
  const port = await freePort();
  const server = await startServerProcess({
    HM_PORT: String(port),
    HM_DATA_DIR: dataDir,
    HM_INGEST_WAL: 'on',
    HM_ALERTS: 'off',
    // The drain waits this long for more rows while the log holds little: at the kill, the
    // acknowledged spans are in the log and not yet in the store.
    HM_BATCH_MAX_WAIT_MS: '60000',
  });
  children.push(server.child);
  return server;
}

describe('ingest write-ahead log: SIGKILL after acknowledging spans (real chDB, a real server process)', () => {
  it('stores every acknowledged span exactly once after a restart, dropping a torn last record', async () => {
    const first = await start();
    const acknowledged: string[] = [];
    let next = 0;
    const sender = async (): Promise<void> => {
      while (acknowledged.length < 2_000) {
        const batch = next++;
        const ids = Array.from({ length: 50 }, (_, i) => hex(batch * 50 + i + 1, 16));
        const body = otlpJson(
          ids.map((id) => sonnetSpan(hex(batch + 1, 32), id, Date.now() - 60_000)),
        );
        const res = await fetch(`${first.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        acknowledged.push(...ids);
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    first.child.kill('SIGKILL');
    await waitForExit(first.child, 10_000);
    expect(first.child.signalCode).toBe('SIGKILL');

    // A crash in the middle of appending one more record: part of its frame reached the file.
    const segments = readdirSync(walDir)
      .filter((f) => f.endsWith('.wal'))
      .sort();
    const torn = pricedSpan({ traceId: 'ee'.repeat(16), spanId: 'ee'.repeat(8), spanType: 'llm' });
    const frame = encodeFrame(encodeSpanRecord([torn]));
    appendFileSync(join(walDir, segments.at(-1)!), frame.subarray(0, frame.length - 7));

    // Before the restart: the acknowledged spans are only in the log.
    const before = await openStore({ kind: 'chdb', dataDir });
    let storedAtKill: number;
    try {
      const rs = await before.query({
        query: 'SELECT count() AS n FROM harness_meter.spans',
        format: 'JSONEachRow',
      });
      storedAtKill = Number((await rs.json<{ n: string }>())[0]?.n);
    } finally {
      await before.close();
    }
    expect(storedAtKill).toBeLessThan(acknowledged.length);

    // Restart: the log is replayed; a report waits for it (read barrier).
    const second = await start();
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const report = await fetch(`${second.url}/api/v1/reports/cost?by=model&since=${since}`);
    expect(report.status).toBe(200);
    expect(second.output()).toMatch(/torn or corrupt tail/);
    second.child.kill('SIGTERM');
    expect(await waitForExit(second.child, 20_000)).toBe(0);

    const client = await openStore({ kind: 'chdb', dataDir });
    try {
      const rs = await client.query({
        query: `SELECT countIf(has({ids:Array(String)}, SpanId)) AS acked,
                       uniqExactIf(SpanId, has({ids:Array(String)}, SpanId)) AS acked_unique,
                       count() AS n, uniqExact(TraceId, SpanId) AS u,
                       countIf(SpanId = {torn:String}) AS torn,
                       (SELECT sum(llm_calls) FROM harness_meter.usage_by_minute) AS rollup_calls
                FROM harness_meter.spans`,
        query_params: { ids: acknowledged, torn: torn.spanId },
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<Record<string, string>>();
      expect(Number(row?.acked)).toBe(acknowledged.length);
      expect(Number(row?.acked_unique)).toBe(acknowledged.length);
      // Nothing stored twice, in the table or in its rollup; the torn record is not replayed.
      expect(Number(row?.n)).toBe(Number(row?.u));
      expect(Number(row?.rollup_calls)).toBe(Number(row?.n));
      expect(Number(row?.torn)).toBe(0);
    } finally {
      await client.close();
    }
  }, 120_000);
});
