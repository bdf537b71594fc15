// Benchmark: SIGTERM at scale, and one alert round's time. HM_BENCH_SHUTDOWN_SPANS spans (default
// 10,000,000) are generated inside chDB (bench/lib/store-load.js) in a fresh folder, over the last
// HM_BENCH_SHUTDOWN_HOURS hours (default 864: five weeks, so spike baselines are read); one alert round
// (the default rules, checkAlerts) is timed at HM_BENCH_SHUTDOWN_SMALL spans (default 100,000, the
// baseline) and again at the full size in the same run. Then `harness-meter start` runs on the folder
// with alerts on (rounds at most every second while spans arrive), a light ingest (100 spans every
// 100 ms over OTLP/JSON) runs for HM_BENCH_SHUTDOWN_RUN_MS (default 5000), and SIGTERM is sent:
// printed are the time to exit, the exit code and the signal (a crash shows as a signal).
// Run: HM_BENCH=shutdown npm run bench (small: HM_BENCH_SHUTDOWN_SPANS=300000).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { migrateUp, openStore } from '../queries/dist/index.js';
import { checkAlerts, parseRules, DEFAULT_RULES_JSON } from '../pipeline/dist/alerts/index.js';
import { benchResult, loadSpans, median, startServer } from './lib/store-load.js';

const TOTAL = Number(process.env.HM_BENCH_SHUTDOWN_SPANS ?? 10_000_000);
const SMALL = Math.min(TOTAL, Number(process.env.HM_BENCH_SHUTDOWN_SMALL ?? 100_000));
const RUN_MS = Number(process.env.HM_BENCH_SHUTDOWN_RUN_MS ?? 5000);
// Five weeks of history by default, so the spike rule's four past weeks are read too.
const HOURS = Number(process.env.HM_BENCH_SHUTDOWN_HOURS ?? 24 * 36);
const DB = 'harness_meter';

// A folder an earlier run loaded (its path is printed): no load and no round, the SIGTERM part only,
// e.g. for the same data under another build (HM_BENCH_CLI).
const REUSE = process.env.HM_BENCH_SHUTDOWN_DIR;
const dataDir = REUSE || mkdtempSync(join(os.tmpdir(), 'hm-bench-shutdown-'));
const rules = parseRules(DEFAULT_RULES_JSON);

async function roundMs(client) {
  const ms = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await checkAlerts({ client, db: DB, rules });
    ms.push(performance.now() - t);
  }
  return median(ms);
}

let smallRound;
let fullRound;
const client = REUSE ? undefined : await openStore({ kind: 'chdb', dataDir });
if (client)
  try {
    await migrateUp(client, DB);
    const end = Date.now();
    let t = performance.now();
    await loadSpans(client, DB, { from: 0, count: SMALL, total: TOTAL, hours: HOURS, end });
    smallRound = await roundMs(client);
    await loadSpans(client, DB, {
      from: SMALL,
      count: TOTAL - SMALL,
      total: TOTAL,
      hours: HOURS,
      end,
    });
    const loadS = (performance.now() - t) / 1000;
    console.log(
      `loaded ${TOTAL.toLocaleString()} spans inside chDB in ${loadS.toFixed(1)} s (${dataDir})`,
    );
    t = performance.now();
    fullRound = await roundMs(client);
    console.log(
      `alert round (default rules, median of 3): ${fullRound.toFixed(0)} ms at ${TOTAL.toLocaleString()} stored; ` +
        `${smallRound.toFixed(0)} ms at ${SMALL.toLocaleString()} stored`,
    );
  } finally {
    await client.close();
  }
else
  console.log(
    `reusing ${dataDir} (HM_BENCH_SHUTDOWN_DIR): ${TOTAL.toLocaleString()} spans assumed`,
  );

const server = await startServer(dataDir, {
  HM_ALERTS: 'on',
  HM_ALERTS_MIN_INTERVAL_MS: '1000',
});
console.log(`server up in ${server.startMs.toFixed(0)} ms (start-up repair included)`);

// Light ingest: 100 LLM spans per request every 100 ms, until the server goes away.
let sent = 0;
let stop = false;
const ingest = (async () => {
  for (let batch = 0; !stop; batch++) {
    const spans = Array.from({ length: 100 }, (_, i) => ({
      traceId: (batch + 1).toString(16).padStart(32, '0'),
      spanId: (batch * 100 + i + 1).toString(16).padStart(16, 'f'),
      name: 'chat claude-sonnet-4-5',
      startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
      endTimeUnixNano: String(BigInt(Date.now() + 1500) * 1_000_000n),
      attributes: [
        ['gen_ai.operation.name', { stringValue: 'chat' }],
        ['gen_ai.provider.name', { stringValue: 'anthropic' }],
        ['gen_ai.request.model', { stringValue: 'claude-sonnet-4-5' }],
        ['gen_ai.conversation.id', { stringValue: `live-${batch % 20}` }],
        ['user.id', { stringValue: `dev${batch % 300}` }],
        ['gen_ai.usage.input_tokens', { intValue: '20000' }],
        ['gen_ai.usage.output_tokens', { intValue: '300' }],
      ].map(([key, value]) => ({ key, value })),
    }));
    try {
      const res = await fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans }] }] }),
      });
      await res.arrayBuffer();
      if (res.ok) sent += 100;
    } catch {
      return; // the server closed
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();
await new Promise((r) => setTimeout(r, RUN_MS));

const signalled = performance.now();
server.child.kill('SIGTERM');
const { code, signal } = await new Promise((resolve) =>
  server.child.once('exit', (c, s) => resolve({ code: c, signal: s })),
);
const exitMs = performance.now() - signalled;
stop = true;
await ingest;
console.log(
  `SIGTERM at ${TOTAL.toLocaleString()} stored, alerts on, ${sent} spans acknowledged under light ingest: ` +
    `exit ${code === null ? `by signal ${signal}` : `code ${code}`} after ${exitMs.toFixed(0)} ms`,
);
if (code !== 0) console.log(server.output().slice(-2000));

benchResult({
  id: 'shutdown-ms',
  label: `SIGTERM to exit at ${TOTAL.toLocaleString()} stored spans, alerts on, light ingest (exit code ${code ?? signal})`,
  value: Math.round(exitMs),
  unit: 'ms',
  baseline: null,
  baselineLabel: 'none (the aim is absolute)',
  aim: '<= 5000',
  met: code === 0 && exitMs <= 5000,
});
if (fullRound !== undefined)
  benchResult({
    id: 'alert-round-ms',
    label: `one alert round (default rules) at ${TOTAL.toLocaleString()} stored spans`,
    value: Math.round(fullRound),
    unit: 'ms',
    baseline: Math.round(smallRound),
    baselineLabel: `the same round at ${SMALL.toLocaleString()} stored spans`,
    aim: 'independent of stored size',
    met: fullRound <= Math.max(2 * smallRound, smallRound + 50),
  });
