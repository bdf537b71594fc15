// Benchmark: embedded OTLP/HTTP ingest. Starts the embedded server (chDB in a temp folder, rollups and
// dedup on) in a child process and drives it with HM_BENCH_INGEST_CONNECTIONS keep-alive connections
// sending protobuf export requests of 500 spans (40 % LLM / 60 % tool calls, 200 sessions), until
// HM_BENCH_INGEST_SPANS spans are stored. Prints the rate in windows as stored spans grow, the p95
// request latency, the server's peak RSS, and the same load against a bare node:http server that only
// reads the bodies (the baseline, for HM_BENCH_INGEST_BASELINE_S seconds), with the ratio.
// A 503 (queue full) is retried after a short pause with the same body, as an exporter would.
// HM_BENCH_INGEST_WAL=off (default) | on | both: the server's ingest write-ahead log (HM_INGEST_WAL);
// `both` runs the same load without and with it, in this order, in the same run. After the load every
// run waits until every acknowledged span is stored, and prints the sustained rate: spans / time from
// the first request until all are stored (with the log, a 200 comes before the insert).
// Run: HM_BENCH=ingest npm run bench   (smoke test: HM_BENCH_INGEST_SPANS=200000)
// HM_ALERTS (default on) passes through to the server; HM_BENCH_INGEST_ALERTS=both runs on and off.
// HM_BENCH_INGEST_BEFORE=<another build's pipeline/dist> first runs that build's server under the same
// load (before/after in one run); HM_BENCH_INGEST_BEFORE_ENV='{"HM_BATCH_MAX_WAIT_MS":"200"}' gives the
// before run other settings (with or without another build).
// HM_BENCH_INGEST_PRELOAD=N (e.g. 10000000): flatness to N stored spans. Runs the same ingest twice,
// into an empty store and into one first filled with N spans inside chDB (INSERT … SELECT through the
// views, sessions of 200 spans over 20 days, bench/lib/store-load.js; rollups marked clean, as after a
// clean stop), and prints the rate at N beside the rate when empty (aim: within 20 %). The load is made
// once per run (or kept in HM_BENCH_INGEST_PRELOAD_STORE=<folder> across runs) and copied per server;
// HM_BENCH_INGEST_PRELOAD_FILTER=saved|none|both (default both): the server starts with the key filter
// a clean stop saves (a restart), without it (a crash or a bulk load: it seeds from the store), or both.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markRollupsClean, migrateUp, openStore } from '../queries/dist/index.js';
import { createRequestStream } from './ingest-requests.js';
import { preloadInto, timeSeeds } from './lib/preload-store.js';
import { loadSpans } from './lib/store-load.js';

const SPANS = Number(process.env.HM_BENCH_INGEST_SPANS ?? 10_000_000);
const CONNECTIONS = Number(process.env.HM_BENCH_INGEST_CONNECTIONS ?? 12);
const WINDOWS = Number(process.env.HM_BENCH_INGEST_WINDOWS ?? 10);
const BASELINE_S = Number(process.env.HM_BENCH_INGEST_BASELINE_S ?? 5);
const ALERTS = process.env.HM_BENCH_INGEST_ALERTS ?? process.env.HM_ALERTS ?? 'on';
const BEFORE_ENV = JSON.parse(process.env.HM_BENCH_INGEST_BEFORE_ENV ?? '{}');
const BEFORE =
  process.env.HM_BENCH_INGEST_BEFORE ??
  (process.env.HM_BENCH_INGEST_BEFORE_ENV
    ? fileURLToPath(new URL('../pipeline/dist', import.meta.url))
    : undefined);
const BEFORE_LABEL = `the build at ${BEFORE} with ${JSON.stringify(BEFORE_ENV)}`;
const WAL = process.env.HM_BENCH_INGEST_WAL ?? 'off';
if (!['on', 'off', 'both'].includes(WAL))
  throw new Error(`HM_BENCH_INGEST_WAL=${WAL}: use on, off or both`);
const PRELOAD = Number(process.env.HM_BENCH_INGEST_PRELOAD ?? 0);
// HM_BENCH_INGEST_FORMAT=both: before each run, the same run with HM_CHDB_INSERT_FORMAT=compact (the
// text insert), and the run itself with rowbinary; prints one figure per write-ahead-log mode.
const FORMAT = process.env.HM_BENCH_INGEST_FORMAT ?? '';
if (!['', 'both'].includes(FORMAT))
  throw new Error(`HM_BENCH_INGEST_FORMAT=${FORMAT}: use both, or leave it unset`);
const formatRuns = [];
const DB = 'harness_meter'; // the server's default HM_DATABASE
const PRELOAD_FILTER = process.env.HM_BENCH_INGEST_PRELOAD_FILTER ?? 'both';
if (!['saved', 'none', 'both'].includes(PRELOAD_FILTER))
  throw new Error(`HM_BENCH_INGEST_PRELOAD_FILTER=${PRELOAD_FILTER}: use saved, none or both`);
const PRELOAD_SOURCE =
  process.env.HM_BENCH_INGEST_PRELOAD_STORE ??
  (PRELOAD > 0 ? mkdtempSync(join(os.tmpdir(), 'hm-bench-ingest-preload-')) : undefined);
// HM_BENCH_INGEST_PRELOAD_SEED_ROUNDS (default 1; 0 = skip): the key filter's seed from the N
// stored keys timed alone, the store's aggregation against the pages read into Node (alternated).
const SEED_ROUNDS = Number(process.env.HM_BENCH_INGEST_PRELOAD_SEED_ROUNDS ?? 1);
let seedTimes;
const PRELOAD_SETTLE_MS = Number(process.env.HM_BENCH_INGEST_PRELOAD_SETTLE_S ?? 300) * 1000;
const RETRY_PAUSE_MS = 250;
const serverScript = fileURLToPath(new URL('./ingest-server.js', import.meta.url));

const load1 = () => os.loadavg()[0];
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
const fmt = (n) => Math.round(n).toLocaleString('en-US');

function startChild(role, env) {
  const child = fork(serverScript, [], {
    env: { ...process.env, ...env, HM_BENCH_INGEST_ROLE: role },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  // Answers come back by kind (an rss sample can arrive while a flush is still running).
  const waiters = { url: [], rss: [], flushed: [], stopped: [] };
  child.on('message', (m) => {
    const kind = Object.keys(waiters).find((k) => k in m);
    if (kind) waiters[kind].shift()?.(m);
  });
  const ask = (msg) =>
    new Promise((resolve) => {
      waiters[{ rss: 'rss', flush: 'flushed', stop: 'stopped' }[msg] ?? 'url'].push(resolve);
      if (msg !== undefined) child.send(msg);
    });
  const ready = ask();
  return {
    child,
    url: ready.then((m) => m.url),
    rss: async () => (await ask('rss')).rss,
    cpuMs: async () => (await ask('rss')).cpuMs ?? 0,
    flush: () => ask('flush'),
    stop: async () => {
      await ask('stop');
    },
  };
}

/** Sends one body; resolves { status, ms }. */
function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = http.request(
      url + '/v1/traces',
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Drives `url` with CONNECTIONS loops until `until()` says stop. Calls `onWindow` every `windowSpans`
 * accepted spans with the window's rate. Returns totals and latencies.
 */
async function drive(url, { until, windowSpans, onWindow }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const gen = createRequestStream();
  const latencies = [];
  let accepted = 0;
  let retries = 0;
  let windowStart = performance.now();
  let windowAccepted = 0;
  const t0 = performance.now();
  async function loop() {
    while (!until(accepted, performance.now() - t0)) {
      const body = gen.next();
      for (;;) {
        const r = await post(agent, url, body);
        latencies.push(r.ms);
        if (r.status === 200) break;
        if (r.status !== 503) throw new Error(`unexpected HTTP ${r.status}`);
        retries++;
        await new Promise((res) => setTimeout(res, RETRY_PAUSE_MS));
      }
      accepted += gen.perRequest;
      windowAccepted += gen.perRequest;
      if (windowSpans && windowAccepted >= windowSpans) {
        const now = performance.now();
        onWindow?.({ spans: accepted, rate: (windowAccepted / (now - windowStart)) * 1000 });
        windowStart = now;
        windowAccepted = 0;
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { accepted, seconds, rate: accepted / seconds, p95: q(latencies, 0.95), retries };
}

// Baseline: a bare node:http server reading the same bodies.
const bare = startChild('bare', {});
const bareRun = await drive(await bare.url, { until: (_n, ms) => ms >= BASELINE_S * 1000 });
await bare.stop();
console.log(
  `bare node:http reading the bodies: ${fmt(bareRun.rate)} spans/s, p95 ${bareRun.p95.toFixed(1)} ms (${CONNECTIONS} connections, ${BASELINE_S} s)`,
);

/** Fills a fresh folder with `n` stored spans (through the views) and marks the rollups clean. */
async function preload(dataDir, n) {
  const t = performance.now();
  const client = await openStore({ kind: 'chdb', dataDir });
  await migrateUp(client, DB);
  await loadSpans(client, DB, { count: n, hours: 24 * 20 });
  await markRollupsClean(client, DB);
  const loaded = performance.now();
  // Let the merges of the bulk load finish (bounded), as in a store that has been running: a server
  // started right after the load would otherwise spend its first minutes merging the load's parts.
  let merging = 0;
  while (performance.now() - loaded < PRELOAD_SETTLE_MS) {
    const rs = await client.query({
      query: `SELECT count() AS n FROM system.merges WHERE database = {db:String}`,
      query_params: { db: DB },
      format: 'JSONEachRow',
    });
    merging = Number((await rs.json())[0]?.n ?? 0);
    if (merging === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await client.close();
  console.log(
    `  preloaded ${fmt(n)} spans in ${((loaded - t) / 1000).toFixed(0)} s, merges settled for ${((performance.now() - loaded) / 1000).toFixed(0)} s (${merging} still running)`,
  );
}

async function runEmbedded(alerts, dist, stored = 0, env = {}, savedFilter = true) {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-ingest-'));
  if (stored > 0)
    await preloadInto(dataDir, stored, {
      fill: preload,
      source: PRELOAD_SOURCE,
      db: DB,
      filter: savedFilter,
    });
  const server = startChild('embedded', {
    ...(dist ? { HM_BENCH_INGEST_DIST: dist } : {}),
    ...env,
    HM_DATA_DIR: dataDir,
    HM_ALERTS: alerts,
    HM_AUTH: 'off',
    HM_LOG_LEVEL: process.env.HM_LOG_LEVEL ?? 'error', // alerts firing on the bench's spend are not news
  });
  const url = await server.url;
  const cpuStart = await server.cpuMs();
  let peakRss = 0;
  const sampler = setInterval(() => {
    void server.rss().then((r) => (peakRss = Math.max(peakRss, r)));
  }, 1000);
  const windows = [];
  console.log(
    `embedded${dist ? ` (${dist} ${JSON.stringify(env)})` : ''} (alerts ${alerts}${stored ? `, ${fmt(stored)} stored first, ${savedFilter ? 'key filter saved at a clean stop' : 'no saved key filter (seeds from the store)'}` : ''}): ${fmt(SPANS)} spans, ${CONNECTIONS} connections`,
  );
  const run = await drive(url, {
    until: (n) => n >= SPANS,
    windowSpans: Math.max(500, Math.floor(SPANS / WINDOWS)),
    onWindow: (w) => {
      windows.push(w);
      console.log(`  stored ${fmt(w.spans).padStart(11)}: ${fmt(w.rate).padStart(7)} spans/s`);
    },
  });
  const flushStarted = performance.now();
  await server.flush();
  const storedSeconds = run.seconds + (performance.now() - flushStarted) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, await server.rss());
  // Server CPU per span, every thread (receiver, chDB inserts, merges, alerts): what bounds the rate
  // on 2 cores, and steadier than the rate when other processes load the machine.
  const cpuUsPerSpan = (((await server.cpuMs()) - cpuStart) * 1000) / run.accepted;
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  // The first window includes the server's warm-up (JIT, first parts); the flatness compares the
  // second window with the last, so it measures the effect of stored data, not of start-up.
  const first = windows[Math.min(1, windows.length - 1)]?.rate ?? run.rate;
  const last = windows.at(-1)?.rate ?? run.rate;
  console.log(
    `  ${fmt(run.rate)} spans/s overall, p95 ${run.p95.toFixed(0)} ms, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB, ${run.retries} retried 503s, ratio to bare ${(run.rate / bareRun.rate).toFixed(3)}, server CPU ${cpuUsPerSpan.toFixed(1)} µs/span`,
  );
  // The rate after the first window (start-up: JIT, the key filter's seed), for the preload figure.
  let laterSpans = 0;
  let laterSeconds = 0;
  for (let i = 1; i < windows.length; i++) {
    const spans = windows[i].spans - windows[i - 1].spans;
    laterSpans += spans;
    laterSeconds += spans / windows[i].rate;
  }
  const steadyRate = laterSeconds > 0 ? laterSpans / laterSeconds : run.rate;
  console.log(`  ${fmt(steadyRate)} spans/s after the first window`);
  const sustained = run.accepted / storedSeconds;
  console.log(
    `  all stored ${storedSeconds.toFixed(1)} s after the first request: ${fmt(sustained)} spans/s sustained (acknowledged ${fmt(run.rate)} spans/s)`,
  );
  return {
    ...run,
    peakRss,
    flatness: last / first,
    steadyRate,
    storedSeconds,
    sustained,
    cpuUsPerSpan,
  };
}

const modes = ALERTS === 'both' ? ['off', 'on'] : [ALERTS];
const results = [];
const before = [];
const walModes = WAL === 'both' ? ['off', 'on'] : [WAL];
const walRuns = [];
for (const alerts of modes) {
  if (BEFORE) before.push({ alerts, ...(await runEmbedded(alerts, BEFORE, 0, BEFORE_ENV)) });
  for (const wal of walModes) {
    const env = wal === 'on' ? { HM_INGEST_WAL: 'on' } : {};
    let compact;
    if (FORMAT === 'both') {
      compact = await runEmbedded(alerts, undefined, 0, {
        ...env,
        HM_CHDB_INSERT_FORMAT: 'compact',
      });
      env.HM_CHDB_INSERT_FORMAT = 'rowbinary';
    }
    const r = { alerts, wal, ...(await runEmbedded(alerts, undefined, 0, env)) };
    if (compact) formatRuns.push({ alerts, wal, compact, binary: r });
    if (wal === 'off') results.push(r);
    else walRuns.push(r);
  }
}
const preloaded = [];
const filterModes = PRELOAD_FILTER === 'both' ? [true, false] : [PRELOAD_FILTER === 'saved'];
if (PRELOAD > 0) {
  for (const alerts of modes)
    for (const saved of filterModes)
      preloaded.push({
        alerts,
        saved,
        ...(await runEmbedded(alerts, undefined, PRELOAD, {}, saved)),
      });
  // The key filter's seed alone (what a start without a saved filter waits for), two ways.
  if (SEED_ROUNDS > 0) {
    seedTimes = await timeSeeds(PRELOAD_SOURCE, DB, SEED_ROUNDS);
    console.log(
      `  key filter seed of ${fmt(seedTimes.keys.store)} keys: ${seedTimes.store.toFixed(2)} s (the sink's seed), ${seedTimes.node.toFixed(2)} s read into Node in pages (median of ${SEED_ROUNDS})`,
    );
  }
  if (process.env.HM_BENCH_INGEST_PRELOAD_STORE === undefined)
    rmSync(PRELOAD_SOURCE, { recursive: true, force: true });
}

const result = (id, label, value, unit, baseline, baselineLabel, aim, met) =>
  console.log(
    `BENCH_RESULT ${JSON.stringify({ id, label, value, unit, baseline, baselineLabel, aim, met, load: Number(load1().toFixed(2)) })}`,
  );
for (const r of results) {
  const suffix = results.length > 1 ? `-alerts-${r.alerts}` : '';
  const cond = `${fmt(SPANS)} spans, ${CONNECTIONS} connections, alerts ${r.alerts}`;
  result(
    `ingest-embedded${suffix}`,
    `embedded OTLP/HTTP ingest into chDB (${cond})`,
    Math.round(r.rate),
    'spans/s',
    Math.round(bareRun.rate),
    'bare node:http server reading the same bodies',
    '>= 50000',
    r.rate >= 50_000,
  );
  result(
    `ingest-p95-ms${suffix}`,
    `p95 request latency, 500 spans per request (${cond})`,
    Number(r.p95.toFixed(1)),
    'ms',
    Number(bareRun.p95.toFixed(1)),
    'bare node:http server',
    '<= 250',
    r.p95 <= 250,
  );
  result(
    `ingest-rss-mb${suffix}`,
    `peak server RSS under sustained ingest (${cond})`,
    Math.round(r.peakRss / 2 ** 20),
    'MB',
    null,
    '',
    'printed; bounded',
    true,
  );
  result(
    `ingest-flatness${suffix}`,
    `rate in the last window / rate in the second window (${cond})`,
    Number(r.flatness.toFixed(3)),
    'ratio',
    null,
    '',
    '>= 0.8',
    r.flatness >= 0.8,
  );
}
for (const w of walRuns) {
  const suffix = modes.length > 1 ? `-alerts-${w.alerts}` : '';
  const cond = `${fmt(SPANS)} spans, ${CONNECTIONS} connections, alerts ${w.alerts}, HM_INGEST_WAL=on`;
  const direct = results.find((r) => r.alerts === w.alerts);
  result(
    `ingest-embedded-wal${suffix}`,
    `embedded ingest with the write-ahead log, sustained: spans / time until all stored (${cond}; acknowledged ${fmt(w.rate)} spans/s, all stored ${w.storedSeconds.toFixed(1)} s after the first request)`,
    Math.round(w.sustained),
    'spans/s',
    Math.round(direct ? direct.sustained : bareRun.rate),
    direct
      ? `the same load without the log (a 200 = stored), same run: sustained ${fmt(direct.sustained)} spans/s, p95 ${direct.p95.toFixed(0)} ms, peak RSS ${Math.round(direct.peakRss / 2 ** 20)} MB`
      : 'bare node:http server reading the same bodies',
    '>= 50000',
    w.sustained >= 50_000,
  );
  result(
    `ingest-p95-ms-wal${suffix}`,
    `p95 request latency with the write-ahead log, 500 spans per request (${cond})`,
    Number(w.p95.toFixed(1)),
    'ms',
    direct ? Number(direct.p95.toFixed(1)) : Number(bareRun.p95.toFixed(1)),
    direct ? 'the same load without the log, same run' : 'bare node:http server',
    '<= 250',
    w.p95 <= 250,
  );
  result(
    `ingest-rss-mb-wal${suffix}`,
    `peak server RSS under sustained ingest with the write-ahead log (${cond})`,
    Math.round(w.peakRss / 2 ** 20),
    'MB',
    direct ? Math.round(direct.peakRss / 2 ** 20) : null,
    direct ? 'the same load without the log, same run' : '',
    'printed; bounded',
    true,
  );
}
for (const f of formatRuns) {
  const suffix = `${f.wal === 'on' ? '-wal' : ''}${modes.length > 1 ? `-alerts-${f.alerts}` : ''}`;
  const cond = `${fmt(SPANS)} spans, ${CONNECTIONS} connections, alerts ${f.alerts}, HM_INGEST_WAL=${f.wal}`;
  const c = f.compact;
  const b = f.binary;
  result(
    `ingest-embedded-rowbinary${suffix}`,
    `embedded ingest, sustained (all stored), HM_CHDB_INSERT_FORMAT=rowbinary (${cond}; acknowledged ${fmt(b.rate)} spans/s, p95 ${b.p95.toFixed(0)} ms, peak RSS ${Math.round(b.peakRss / 2 ** 20)} MB)`,
    Math.round(b.sustained),
    'spans/s',
    Math.round(c.sustained),
    `the same load with HM_CHDB_INSERT_FORMAT=compact (JSONCompactEachRow raw insert), run just before: acknowledged ${fmt(c.rate)} spans/s, p95 ${c.p95.toFixed(0)} ms, peak RSS ${Math.round(c.peakRss / 2 ** 20)} MB`,
    'above the baseline (toward >= 50000)',
    b.sustained > c.sustained,
  );
}
for (const [i, b] of before.entries()) {
  const r = results[i] ?? walRuns[i];
  const suffix = results.length > 1 ? `-alerts-${r.alerts}` : '';
  const cond = `${fmt(SPANS)} spans, ${CONNECTIONS} connections, alerts ${r.alerts}`;
  result(
    `ingest-embedded-vs-before${suffix}`,
    `embedded OTLP/HTTP ingest into chDB, this build (${cond})`,
    Math.round(r.rate),
    'spans/s',
    Math.round(b.rate),
    `${BEFORE_LABEL}, same load, same run (p95 ${b.p95.toFixed(0)} ms, peak RSS ${Math.round(b.peakRss / 2 ** 20)} MB)`,
    'faster than the baseline',
    r.rate > b.rate,
  );
}
for (const p of preloaded) {
  const r =
    results.find((x) => x.alerts === p.alerts) ?? walRuns.find((x) => x.alerts === p.alerts);
  const suffix = `${p.saved ? '' : '-no-filter'}${modes.length > 1 ? `-alerts-${r.alerts}` : ''}`;
  const cond = `${fmt(SPANS)} spans, ${CONNECTIONS} connections, alerts ${r.alerts}`;
  const start = p.saved
    ? 'a restart: the key filter saved at the clean stop is loaded'
    : 'a crash or a bulk load: no saved key filter, seeded from the store while ingesting';
  result(
    `ingest-at-preload${suffix}`,
    `embedded ingest rate after the first window with ${fmt(PRELOAD)} spans stored first, ${start} (${cond}; overall ${fmt(p.rate)} spans/s, p95 ${p.p95.toFixed(0)} ms, peak RSS ${Math.round(p.peakRss / 2 ** 20)} MB)`,
    Math.round(p.steadyRate),
    'spans/s',
    Math.round(r.steadyRate),
    `the same ingest into an empty store, same run, after the first window (overall ${fmt(r.rate)} spans/s, p95 ${r.p95.toFixed(0)} ms)`,
    '>= 0.8 x baseline',
    p.steadyRate >= 0.8 * r.steadyRate,
  );
}
if (seedTimes)
  result(
    'key-filter-seed-s',
    `sink key filter seed from ${fmt(seedTimes.keys.store)} stored keys, alone (the sink's seed: one aggregation in the store when the keys' bits outnumber the filter's 64-bit words, else pages read into Node)`,
    Number(seedTimes.store.toFixed(2)),
    's',
    Number(seedTimes.node.toFixed(2)),
    'every key read into Node in pages of 200,000 (TabSeparated, key order) and hashed there: the seed before this change, same store, same run',
    'below the baseline (a start without a saved filter)',
    seedTimes.store < seedTimes.node,
  );
