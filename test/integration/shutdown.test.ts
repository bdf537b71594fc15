import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { openStore } from '@harness-meter/queries';
import { freePort, startServerProcess, waitForExit } from '../helpers/cli.js';
import { otlpJson, sonnetSpan } from '../helpers/otlp-json.js';
import { tempDataDir } from '../helpers/store.js';

const dataDir = tempDataDir('shutdown');
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

// Without the ingest write-ahead log (a 200 = stored), then with it (a 200 = durable; the stop drains
// the log within its budget), on the same folder with span ids of their own.
describe.each([
  { wal: 'off', firstId: 1 },
  { wal: 'on', firstId: 10_000_000 },
])(
  'SIGTERM during ingest, alerts and detection on, HM_INGEST_WAL=$wal (real chDB, a real server process)',
  ({ wal, firstId }) => {
    it('exits 0 promptly, without a crash, with every acknowledged span stored', async () => {
      const port = await freePort();
      const server = await startServerProcess({
        HM_PORT: String(port),
        HM_DATA_DIR: dataDir,
        HM_INGEST_WAL: wal,
        HM_BATCH_MAX_WAIT_MS: '20',
        // Alert rounds as often as possible and sessions scanned as soon as they are stored, so
        // both are likely to be in flight when the signal arrives.
        HM_ALERTS: 'on',
        HM_ALERTS_INTERVAL_MS: '1000',
        HM_ALERTS_MIN_INTERVAL_MS: '100',
        HM_DETECT_IDLE_MS: '0',
      });
      child = server.child;

      // Four senders post 50 spans per request until the server stops answering.
      const acknowledged: string[] = [];
      let next = 0;
      let stopSending = false;
      const sender = async (): Promise<void> => {
        while (!stopSending) {
          const batch = next++;
          const ids = Array.from({ length: 50 }, (_, i) => hex(firstId + batch * 50 + i, 16));
          const body = otlpJson(
            ids.map((id) => sonnetSpan(hex(batch + 1, 32), id, Date.now() - 60_000)),
          );
          try {
            const res = await fetch(`${server.url}/v1/traces`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            await res.arrayBuffer();
            if (res.status === 200) acknowledged.push(...ids);
          } catch {
            // the server closed: not acknowledged, so the sender keeps it
            if (child?.exitCode !== null) return;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      };
      const senders = [sender(), sender(), sender(), sender()];
      const until = Date.now() + 10_000;
      while (acknowledged.length < 2_000 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      expect(acknowledged.length).toBeGreaterThanOrEqual(2_000);

      const signalled = Date.now();
      server.child.kill('SIGTERM');
      const code = await waitForExit(server.child, 20_000);
      const exitMs = Date.now() - signalled;
      stopSending = true;
      await Promise.all(senders);

      expect(server.child.signalCode).toBeNull(); // no SIGSEGV / SIGABRT
      expect(code).toBe(0);
      expect(server.output()).toContain('stopped.');
      expect(server.output()).not.toMatch(/segmentation|core dumped|did not stop/i);
      expect(exitMs).toBeLessThan(5_000);

      // Every span the server answered 200 for is in the store (and nothing was stored twice).
      const client = await openStore({ kind: 'chdb', dataDir });
      try {
        const rs = await client.query({
          query: `SELECT count() AS n, uniqExact(SpanId) AS u FROM harness_meter.spans WHERE has({ids:Array(String)}, SpanId)`,
          query_params: { ids: acknowledged },
          format: 'JSONEachRow',
        });
        const [row] = await rs.json<{ n: string; u: string }>();
        expect(Number(row?.u)).toBe(acknowledged.length);
        expect(Number(row?.n)).toBe(acknowledged.length);
      } finally {
        await client.close();
      }
    }, 90_000);
  },
);
