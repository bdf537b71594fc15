import { beforeAll, describe, expect, it } from 'vitest';
import { migrateUp } from '@harness-meter/queries';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { freePort, runCli } from '../helpers/cli.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';

// `harness-meter report waste` with no server reads the folder, and scans stale sessions for
// waste first. That scan is bounded as on a server (the detect stage's catch-up): after a bulk
// load the CLI no longer scans every stale session before it answers.
const SESSIONS = 300;
let env: Record<string, string>;

beforeAll(async () => {
  const { client, dataDir } = await openTempStore('cli-catch-up');
  try {
    await migrateUp(client, 'harness_meter');
    const sink = createSpanSink(client, { db: 'harness_meter', maxSpans: 10_000, maxWaitMs: 5 });
    const at = BigInt(Date.now() - 3_600_000) * 1_000_000n;
    // Each session reads the same file twice: one re_read finding per session once scanned.
    const spans = Array.from({ length: SESSIONS }, (_, s) =>
      [0, 1].map((i) =>
        pricedSpan({
          startTimeUnixNano: at + BigInt(i) * 1_000_000_000n,
          endTimeUnixNano: at + BigInt(i) * 1_000_000_000n + 1_000_000n,
          spanType: 'tool',
          operation: 'execute_tool',
          toolName: 'Read',
          argsHash: `hash-${s}`,
          sessionId: `bulk-session-${s}`,
          developer: 'dev',
        }),
      ),
    ).flat();
    await sink.write(spans);
    await sink.close();
  } finally {
    await client.close();
  }
  env = { HM_DATA_DIR: dataDir, HM_API_URL: `http://127.0.0.1:${await freePort()}` };
});

const left = (stderr: string): number => {
  const m = /note: (\d+)(?: or more)? sessions are not yet scanned for waste/.exec(stderr);
  return m ? Number(m[1]) : 0;
};

describe('report from the data folder after a bulk load', () => {
  it('answers after a bounded scan, says how many sessions are left, and scans more each run', () => {
    const first = runCli(['report', 'waste', '--json'], env);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ report: 'waste' });
    const afterFirst = left(first.stderr);
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(SESSIONS);
    const second = runCli(['report', 'waste', '--json'], env);
    expect(second.status).toBe(0);
    expect(left(second.stderr)).toBeLessThan(afterFirst);
  });
});
