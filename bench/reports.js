// Benchmark: reports at scale (issue 17, "Reports"). Generates HM_BENCH_REPORT_SPANS spans (default
// 10,000,000) and HM_BENCH_REPORT_PRS PRs (default 20,000) inside chDB (INSERT … SELECT FROM numbers(),
// bench/lib/link-data.js), then prints, each beside a raw-table baseline measured in the same run:
//   - the first `report cost-per-pr` after the bulk load, detection catch-up included (the report's own
//     wait as the server runs it: flush, detect catch-up, then the report), beside one unbounded
//     detection round as before (500 stale sessions scanned before the report could run);
//   - p50/p95 of cost-per-pr and of every call the dashboard makes (summary, series, waste-series,
//     filters, pr-sessions, session), beside the same figure computed from the raw spans table;
//   - the start-up rollup repair (bounded to what was written since the last clean stop) beside a
//     full check of every hour.
// Run: HM_BENCH=reports npm run bench; smoke: HM_BENCH_REPORT_SPANS=200000 HM_BENCH_REPORT_PRS=1000.
// HM_BENCH_RUNS (default 20) and HM_BENCH_RAW_RUNS (default 3) set the sample sizes.
// Before the timed calls, every session gets the findings detection would store (bench/lib/link-data.js
// insertFindings; HM_BENCH_FINDINGS=detect keeps only what the detect catch-up found). Above 10M spans
// (HM_BENCH_REPORT_SPANS=100000000, the issue's 100M figure) the load is generated the same way but the
// detect stage, the first-report figure and the repair figures are left out (HM_BENCH_REPORTS_ONLY=1
// does that at any size): a detect round over millions of sessions takes hours.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  costPerPr,
  costSeries,
  markRollupsClean,
  staleSessions,
  dashboardFilters,
  dashboardSummary,
  migrateUp,
  openStore,
  prSessions,
  prelinkNow,
  repairRollups,
  sessionTimeline,
  wasteSeries,
} from '../queries/dist/index.js';
import {
  PRELINKED_FRAGMENTS,
  PRELINKED_LIVE_WASTE_FRAGMENTS,
  reportSql,
  runReport,
} from '../queries/dist/reports.js';
import { DETECT_DEFAULTS, scanSession, startDetectStage } from '../pipeline/dist/detect/index.js';
import { loadPriceBook } from '../pipeline/dist/price/index.js';
import { silentLogger } from '../pipeline/dist/logger.js';
import {
  RAW_LINK_SOURCE,
  costPerPrParams,
  insertFindings,
  insertPrEvents,
  insertSpans,
  insertSpansBulk,
  layout,
  time as timeCalls,
} from './lib/link-data.js';
import { keptStore, snapshots } from './lib/report-store.js';

const SPANS = Number(process.env.HM_BENCH_REPORT_SPANS ?? 10_000_000);
const PRS = Number(process.env.HM_BENCH_REPORT_PRS ?? 20_000);
const RUNS = Number(process.env.HM_BENCH_RUNS ?? 20);
const RAW_RUNS = Number(process.env.HM_BENCH_RAW_RUNS ?? 3);
const REPORTS_ONLY = process.env.HM_BENCH_REPORTS_ONLY === '1' || SPANS > 10_000_000;
const FINDINGS = process.env.HM_BENCH_FINDINGS ?? 'all';
const DB = 'hm_bench_reports';
// Saved snapshots (HM_BENCH_REPORT_SNAPSHOT, HM_BENCH_REPORT_ONLY) and the kept store
// (HM_BENCH_REPORT_STORE, HM_BENCH_REPORT_GENERATE_ONLY): bench/lib/report-store.js.
const snap = snapshots();
const { only: ONLY, restore } = snap;
const SNAP = snap.dir;
// HM_BENCH_REPORT_ONLY=rounds skips the timed calls.
const time = ONLY === 'rounds' ? async () => ({ p50: NaN, p95: NaN, rows: 0 }) : timeCalls;
const store = keptStore(SPANS, PRS);
const STORE = store.dir;
const { kept } = store;
const REUSE = kept !== null;
const progress = (text) => console.error(`bench reports: ${text}`);
const load = () => Number(os.loadavg()[0].toFixed(2));
const f = (ms) => `${ms.toFixed(1).padStart(9)} ms`;

const dataDir = STORE ?? mkdtempSync(join(os.tmpdir(), 'hm-bench-reports-'));
snap.restoreInto(dataDir);
const client = await openStore({ kind: 'chdb', dataDir });
await migrateUp(client, DB);
const { from: resumeFrom, end: resumeEnd, refill } = await store.resume(client, DB, progress);
const END = restore
  ? new Date(restore.end)
  : REUSE
    ? new Date(kept.end)
    : (resumeEnd ?? new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000));
const START = new Date(END.getTime() - 90 * 86_400_000);
const window = { since: START, until: new Date(END.getTime() + 60_000) };
const rows = async (query, params = {}) => {
  const rs = await client.query({
    query,
    query_params: { db: DB, ...params },
    format: 'JSONEachRow',
  });
  return rs.json();
};
const count = async (table) =>
  Number((await rows(`SELECT count() AS n FROM {db:Identifier}.${table}`))[0].n);

// The server runs while the load arrives: each stored chunk counts as a stored batch, so the
// background re-link (pipeline/src/detect/prelink.ts) works during the load as it would in a server
// (HM_BENCH_PRELINK=on; off by default, as in the server: the first report re-links every hour).
const book = loadPriceBook(undefined);
let stored = 0;
const detect =
  REPORTS_ONLY || REUSE
    ? null
    : startDetectStage(client, DB, book, silentLogger, {
        intervalMs: 3_600_000,
        changes: () => stored,
        prelink: process.env.HM_BENCH_PRELINK === 'on',
      });
// The PR facts are imported first (import-prs), then the spans arrive in batches of
// HM_BENCH_REPORT_CHUNK (default 100,000; 1,000,000 when only reports are timed) spans, as a backfill
// through a server would store them.
const t0 = performance.now();
const gen = {
  spans: SPANS,
  prs: PRS,
  start: START,
  end: END,
  chunk: Number(process.env.HM_BENCH_REPORT_CHUNK ?? (REPORTS_ONLY ? 1_000_000 : 100_000)),
  onChunk: () => stored++,
};
if (!REUSE && !restore && resumeFrom === 0) await insertPrEvents(client, DB, gen);
stored++;
// Above 10M (or HM_BENCH_REPORTS_ONLY=1), nothing else runs: the views are detached and the rollups
// filled after the spans, in slices of HM_BENCH_SLICE_ROWS spans (insertSpansBulk; HM_BENCH_BULK=off
// inserts through the views).
const bulk = REPORTS_ONLY && process.env.HM_BENCH_BULK !== 'off' && !REUSE;
const bulkInfo = restore
  ? restore.bulkInfo
  : REUSE
    ? null
    : bulk
      ? await insertSpansBulk(
          client,
          DB,
          { ...gen, from: resumeFrom },
          {
            sliceRows: Number(process.env.HM_BENCH_SLICE_ROWS ?? 10_000_000),
            onProgress: progress,
            onSpansDone: () => store.markDone('spans-done'),
            refill,
            filled: store.filled(),
            onTargetFilled: (t) => store.markFilled(t),
          },
        )
      : await insertSpans(client, DB, gen);
const genS = restore ? restore.genS : REUSE ? kept.genS : (performance.now() - t0) / 1000;
const { sessions } = layout(SPANS, START, END);
const dirtyAfterLoad = await count('link_dirty');

const save = (part, extra = {}) =>
  snap.save(client, dataDir, part, {
    end: END.toISOString(),
    spans: SPANS,
    prs: PRS,
    genS,
    bulkInfo,
    ...extra,
  });
if (SNAP && !restore && !REPORTS_ONLY) await save('first');
// HM_BENCH_RELINK_PROFILE=1 (or HM_BENCH_REPORT_ONLY): the re-link's statements (log_comment
// 'harness-meter prelink') since `from`, each with its wall time, in order (chDB keeps no query_log).
const profiled = [];
const PROFILE = ONLY !== '' || process.env.HM_BENCH_RELINK_PROFILE === '1';
for (const method of PROFILE ? ['query', 'command'] : []) {
  const call = client[method].bind(client);
  client[method] = async (params) => {
    if (params.clickhouse_settings?.log_comment !== 'harness-meter prelink') return call(params);
    const t = performance.now();
    try {
      return await call(params);
    } finally {
      profiled.push({
        ms: performance.now() - t,
        q: params.query.replace(/\s+/g, ' ').slice(0, 110),
      });
    }
  };
}
const relinkProfile = (from) => {
  if (!PROFILE) return;
  const log = profiled.slice(from);
  const total = log.reduce((a, r) => a + r.ms, 0);
  console.log(`  re-link statements (${log.length}, ${total.toFixed(0)} ms in all):`);
  for (const r of log) console.log(`  ${f(r.ms)}  ${r.q}`);
};
const nowMicros = () => profiled.length;

// The first report right after the bulk load, as a running server serves it (embedded.ts: detect
// catch-up before reports that show waste, then the report, which re-links what is still marked).
let firstMs = NaN;
let firstRows = 0;
let reportOnlyMs = NaN;
let listMs = NaN;
let perSession = NaN;
let oldRound = 0;
let oldFirstMs = NaN;
let stale = [];
const OLD_SAMPLE = Number(process.env.HM_BENCH_OLD_SESSIONS ?? 20);
let catchUpMs = NaN;
if (detect && ONLY !== 'rounds') {
  const from = nowMicros();
  const tFirst = performance.now();
  await detect.catchUp();
  catchUpMs = performance.now() - tFirst;
  firstRows = (await costPerPr(client, { db: DB, ...window })).length;
  firstMs = performance.now() - tFirst;
  await detect.stop();
  if (ONLY === 'first') {
    console.log(
      `bench reports (first only, ${restore ? 'saved store' : 'generated'}): first cost-per-pr after the bulk load ${f(firstMs)} = catch-up ${f(catchUpMs)} + re-link and report (${dirtyAfterLoad} marks, ${firstRows} rows)`,
    );
    relinkProfile(from);
    console.log(
      `BENCH_RESULT ${JSON.stringify({ id: 'report-first-after-bulk-ms', label: `first cost-per-pr after a bulk load of ${SPANS / 1e6}M spans (HM_BENCH_REPORT_ONLY=first)`, value: Number(firstMs.toFixed(1)), unit: 'ms', baseline: null, baselineLabel: 'none in this mode', aim: '<= 2000', met: firstMs <= 2000, load: load() })}`,
    );
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
  const tReport = performance.now();
  await costPerPr(client, { db: DB, ...window, prelinked: false });
  reportOnlyMs = performance.now() - tReport;
  // Before: the report waited for one unbounded round: the stale-session listing, then up to 500
  // sessions scanned, each read from spans. Timed here on the listing and OLD_SAMPLE sessions, projected
  // to the round's 500 (a full round takes minutes at 10M spans on a loaded machine).
  const tList = performance.now();
  stale = await staleSessions(client, DB, {
    idleMs: 0,
    limit: DETECT_DEFAULTS.maxSessionsPerRound,
  });
  listMs = performance.now() - tList;
  const tScan = performance.now();
  for (const s of stale.slice(0, OLD_SAMPLE)) await scanSession(client, DB, book, s);
  perSession = (performance.now() - tScan) / Math.max(1, Math.min(OLD_SAMPLE, stale.length));
  oldRound = Math.min(stale.length, DETECT_DEFAULTS.maxSessionsPerRound);
  oldFirstMs = listMs + perSession * oldRound + reportOnlyMs;
}

// The timed calls read every session's findings, as after detection caught up (scan 1: a session the
// detect stage scanned above keeps its own, later scan).
let findingsS = ONLY === 'rounds' ? restore.findingsS : 0;
if (FINDINGS === 'all' && ONLY !== 'rounds' && !REUSE && !(refill && store.done('findings-done'))) {
  const t = performance.now();
  await insertFindings(client, DB, gen, progress);
  findingsS = (performance.now() - t) / 1000;
  store.markDone('findings-done');
}
// The first report after the findings re-links their sessions (a bulk scan: all the waste at once).
const tRelink = performance.now();
if (ONLY !== 'rounds') await costPerPr(client, { db: DB, ...window });
const relinkMs =
  ONLY === 'rounds'
    ? restore.relinkMs
    : REUSE
      ? (kept.relinkMs ?? NaN)
      : performance.now() - tRelink;
if (SNAP && ONLY !== 'rounds' && !REPORTS_ONLY) await save('rounds', { relinkMs, findingsS });
if (!REUSE)
  progress(
    `generated in ${((performance.now() - t0) / 1000).toFixed(0)} s (spans ${bulkInfo?.spansS?.toFixed(0) ?? '?'} s, rollups ${bulkInfo?.rollupsS?.toFixed(0) ?? '?'} s in ${bulkInfo?.slices ?? 1} slices, findings ${findingsS.toFixed(0)} s, re-link ${(relinkMs / 1000).toFixed(1)} s)`,
  );
if (!REUSE)
  store.keep({
    spans: SPANS,
    prs: PRS,
    end: END.toISOString(),
    genS: (performance.now() - t0) / 1000,
    relinkMs,
  });
if (store.generateOnly) {
  await client.close();
  progress(`store kept in ${dataDir}`);
  process.exit(0);
}

const params = costPerPrParams(DB, window);
const rawLinked =
  (file, extra = {}) =>
  async () =>
    (
      await rows(
        reportSql(file).replaceAll('{db:Identifier}.usage_by_link_hour', () => RAW_LINK_SOURCE),
        { ...params, ...extra },
      )
    ).length;
const RAW_SPANS = `(SELECT * FROM {db:Identifier}.spans FINAL
  WHERE Timestamp >= {since:DateTime64(3, 'UTC')} AND Timestamp < {until:DateTime64(3, 'UTC')} AND span_type IN ('llm', 'tool'))`;
const w = { db: DB, ...window };
const calls = [
  {
    id: 'cost-per-pr',
    run: async () => (await costPerPr(client, w)).length,
    raw: rawLinked('cost_per_pr.sql'),
  },
  {
    id: 'dashboard/summary',
    run: async () => (await dashboardSummary(client, w)) && 1,
    raw: async () =>
      (
        await rows(
          `SELECT sum(ifNull(cost_nanos, 0)), countIf(span_type = 'llm'), sum(input_tokens) FROM ${RAW_SPANS}`,
          params,
        )
      ).length,
  },
  {
    id: 'dashboard/series',
    run: async () => (await costSeries(client, { ...w, by: 'model', step: 86_400 })).length,
    raw: async () =>
      (
        await rows(
          `SELECT toStartOfDay(Timestamp) AS b, model, sum(ifNull(cost_nanos, 0)) FROM ${RAW_SPANS} GROUP BY b, model`,
          params,
        )
      ).length,
  },
  {
    id: 'dashboard/waste-series',
    run: async () => (await wasteSeries(client, { ...w, step: 86_400 })).length,
    raw: async () =>
      (
        await rows(
          `SELECT toStartOfDay(Timestamp) AS b, kind, sum(wasted_tokens) FROM {db:Identifier}.waste_findings FINAL
           WHERE Timestamp >= {since:DateTime64(3, 'UTC')} AND Timestamp < {until:DateTime64(3, 'UTC')} GROUP BY b, kind`,
          params,
        )
      ).length,
  },
  {
    id: 'dashboard/filters',
    run: async () => (await dashboardFilters(client, w)) && 1,
    raw: async () =>
      (
        await rows(
          `SELECT dv.1 AS d, dv.2 AS v, sum(ifNull(cost_nanos, 0)) FROM ${RAW_SPANS}
           ARRAY JOIN [('repo', toString(repo)), ('team', toString(team)), ('developer', toString(developer)), ('model', toString(model))] AS dv
           WHERE dv.2 != '' GROUP BY d, v`,
          params,
        )
      ).length,
  },
  {
    id: 'dashboard/pr-sessions',
    run: async () => (await prSessions(client, { ...w, prRepo: 'acme/repo1', pr: 11 })).length,
    raw: rawLinked('dash_pr_sessions.sql', { pr: 11, pr_repo: 'acme/repo1' }),
  },
  {
    id: 'dashboard/session',
    run: async () => (await sessionTimeline(client, { db: DB, session: 'sess-7' })).length,
    raw: null,
  },
];
// Before: the same reports with the links computed in the query (prelinked: false), and cost-per-pr
// with spend prelinked but the waste read from the findings per query (before migration 0020).
// HM_BENCH_RAW=off leaves out the baselines (raw and before; printed as NaN, null in BENCH_RESULT): at 100M
// spans they take most of an hour, so the calls can be timed first and the baselines in a second run on
// the kept store. A baseline that fails (e.g. out of memory) is printed as such; the rest runs.
const NO_RAW = process.env.HM_BENCH_RAW === 'off';
const timeRaw = (runs, fn, id = '') =>
  NO_RAW
    ? Promise.resolve({ p50: NaN, p95: NaN, rows: 0 })
    : time(runs, fn).catch((err) => {
        progress(
          `${id} baseline failed: ${err instanceof Error ? err.message.slice(0, 300) : err}`,
        );
        return { p50: NaN, p95: NaN, rows: 0 };
      });
const before = {
  'cost-per-pr, waste from findings': await timeRaw(
    RAW_RUNS,
    async () =>
      (
        await runReport(
          client,
          'cost-per-pr',
          'cost_per_pr.sql',
          { ...params },
          PRELINKED_LIVE_WASTE_FRAGMENTS,
        )
      ).length,
  ),
  'cost-per-pr': await timeRaw(
    RAW_RUNS,
    async () => (await costPerPr(client, { ...w, prelinked: false })).length,
  ),
  // Before migration 0023: every PR summed from the hourly prelinked rows, read as TSV (the fast
  // path until then), and the waste series read from every finding.
  'cost-per-pr, hourly rows': await timeRaw(
    RUNS,
    async () =>
      (await runReport(client, 'cost-per-pr', 'cost_per_pr.sql', params, PRELINKED_FRAGMENTS, true))
        .length,
  ),
  'dashboard/waste-series': await timeRaw(
    RAW_RUNS,
    async () => (await wasteSeries(client, { ...w, step: 86_400, prelinked: false })).length,
  ),
  'dashboard/pr-sessions': await timeRaw(
    RAW_RUNS,
    async () =>
      (await prSessions(client, { ...w, prRepo: 'acme/repo1', pr: 11, prelinked: false })).length,
  ),
};
const results = [];
for (const c of calls) {
  const fast = await time(RUNS, c.run);
  const raw = c.raw ? await timeRaw(RAW_RUNS, c.raw, c.id) : null;
  results.push({ ...c, fast, raw });
}

const timed = async (fn) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
// Steady-state re-link: a detect round scans 500 sessions again (their findings replaced) while spans
// arrive in 2 hours; the re-link a report (or the background pass) then runs, timed per round.
// (A reused store is left as it is unless HM_BENCH_RELINK_ROUNDS is set: the rounds add spans and scans.)
const RELINK_ROUNDS = Number(process.env.HM_BENCH_RELINK_ROUNDS ?? (REUSE ? 0 : 3));
const relinkRounds = [];
const roundsFrom = nowMicros();
for (let r = 1; r <= RELINK_ROUNDS; r++) {
  const q = (query, extra = {}) =>
    client.command({ query, query_params: { db: DB, scan: 1 + r, from: (r - 1) * 500, ...extra } });
  await q(`INSERT INTO {db:Identifier}.waste_findings
     (session_id, span_id, trace_id, scan_id, Timestamp, kind, repeats_span_id, tool_name, repo, pr,
      developer, team, result_tokens, issue_tokens, wasted_tokens, direct_cost_nanos, carried_tokens,
      carried_cost_nanos, loop_length, fully_priced)
   SELECT session_id, span_id, trace_id, {scan:UInt64}, Timestamp, kind, repeats_span_id, tool_name, repo,
      pr, developer, team, result_tokens, issue_tokens, wasted_tokens, direct_cost_nanos, carried_tokens,
      carried_cost_nanos, loop_length, fully_priced
   FROM {db:Identifier}.waste_findings
   WHERE session_id IN (SELECT concat('sess-', toString(number)) FROM numbers({from:UInt32}, 500))`);
  await q(`INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
   SELECT concat('sess-', toString(number)), {scan:UInt64}, now64(3), 200, 57 FROM numbers({from:UInt32}, 500)`);
  await insertSpans(client, DB, {
    spans: 200,
    prs: PRS,
    start: new Date(END.getTime() - (r + 2) * 3_600_000),
    end: new Date(END.getTime() - r * 3_600_000),
  });
  relinkRounds.push(await timed(() => prelinkNow(client, DB)));
}
const roundsInOrder = [...relinkRounds];
relinkRounds.sort((a, b) => a - b);
if (ONLY === 'rounds') {
  const median = relinkRounds[Math.floor(relinkRounds.length / 2)];
  console.log(
    `bench reports (rounds only, saved store): re-link after a detect round, in order: ${roundsInOrder.map((m) => f(m)).join(',')}`,
  );
  relinkProfile(roundsFrom);
  console.log(
    `BENCH_RESULT ${JSON.stringify({ id: SPANS === 10_000_000 ? 'report-relink-detect-round-ms' : `report-relink-detect-round-ms-${SPANS / 1e6}m`, label: `re-link after a detect round at ${SPANS / 1e6}M spans, median of ${relinkRounds.length} (HM_BENCH_REPORT_ONLY=rounds)`, value: Number(median.toFixed(1)), unit: 'ms', baseline: Number(relinkMs.toFixed(1)), baselineLabel: 're-link of all the waste at once (saved run)', aim: 'a detect round re-links through keys, not every finding', met: median < relinkMs, load: load() })}`,
  );
  await client.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

// Start-up rollup repair: every hour (before: what each start did), after a clean stop (bounded: no
// partition written since), and after a crash with spans written in the current month since the last check.
let repairFullMs = NaN;
let repairMs = NaN;
let repairCrashMs = NaN;
if (!REPORTS_ONLY) {
  repairFullMs = await timed(() => repairRollups(client, DB, { full: true }));
  await new Promise((r) => setTimeout(r, 1_100)); // part times have whole seconds
  await markRollupsClean(client, DB);
  repairMs = await timed(() => repairRollups(client, DB));
  await insertSpans(client, DB, {
    spans: 200,
    prs: PRS,
    start: new Date(END.getTime() - 3_600_000),
    end: END,
  });
  repairCrashMs = await timed(() => repairRollups(client, DB));
}

const storedSpans = await count('spans');
const events = await count('pr_events');
const linkRows = await count('usage_by_link_hour');
const findingRows = await count('waste_findings');
const wasteRows = await count('waste_linked_hour');
await client.close();
if (!STORE) rmSync(dataDir, { recursive: true, force: true });

console.log(`
bench reports: cost-per-pr and the dashboard's calls over 90 days, chDB in-process
  machine:  ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}
  data:     ${storedSpans.toLocaleString('en-US')} spans, ${sessions.toLocaleString('en-US')} sessions, ${PRS.toLocaleString('en-US')} PRs (${events.toLocaleString('en-US')} events), usage_by_link_hour ${linkRows.toLocaleString('en-US')} rows, ${findingRows.toLocaleString('en-US')} findings (waste_linked_hour ${wasteRows.toLocaleString('en-US')} rows); ${REUSE ? `store reused from ${dataDir}, ` : ''}generated in ${genS.toFixed(1)} s${bulk ? ` (views detached: spans ${bulkInfo.spansS.toFixed(1)} s, then ${bulkInfo.views} rollups filled in ${bulkInfo.rollupsS.toFixed(1)} s)` : ''}, findings in ${findingsS.toFixed(1)} s
  re-link after the findings of every session were stored (a bulk scan), in the first report: ${f(relinkMs)}${
    REPORTS_ONLY
      ? ''
      : `
  first cost-per-pr after the bulk load: ${f(firstMs)} (bounded detect catch-up + re-link of what is still marked (${dirtyAfterLoad} marks) + report, ${firstRows} rows)
    before: one unbounded detect round + report (links computed in the query): ${f(oldFirstMs)} projected =
            listing ${f(listMs)} (${stale.length} stale) + ${oldRound} × ${f(perSession)} per session (mean of ${Math.min(OLD_SAMPLE, stale.length)} scanned) + report ${f(reportOnlyMs)}
  start-up rollup repair after a clean stop: ${f(repairMs)}; after a crash, current month written: ${f(repairCrashMs)}; every hour (before): ${f(repairFullMs)}`
  }
  re-link after a detect round (500 sessions scanned again, spans in 2 hours), ${RELINK_ROUNDS} rounds: ${relinkRounds.map((m) => f(m)).join(',')}
  call                         p50          p95    |  raw p50      raw p95   (${RUNS} / ${RAW_RUNS} runs)`);
for (const [id, t] of Object.entries(before))
  console.log(
    `  ${`${id} (before)`.padEnd(24)} ${f(t.p50)} ${f(t.p95)} | ${
      {
        'cost-per-pr, waste from findings': 'spend prelinked, waste joined per query',
        'cost-per-pr, hourly rows':
          'every PR summed from hourly prelinked rows (before migration 0023)',
        'dashboard/waste-series': 'every finding read (before migration 0023)',
      }[id] ?? 'links computed in the query'
    }`,
  );
for (const r of results)
  console.log(
    `  ${r.id.padEnd(24)} ${f(r.fast.p50)} ${f(r.fast.p95)} | ${r.raw ? `${f(r.raw.p50)} ${f(r.raw.p95)}` : '        (drill-down on spans)'}`,
  );
const L = load();
const bench = (o) => console.log(`BENCH_RESULT ${JSON.stringify({ ...o, load: L })}`);
const scale = `${(SPANS / 1e6).toLocaleString('en-US')}M spans / ${PRS.toLocaleString('en-US')} PRs`;
const cpp = results[0];
// The 10M figures keep their ids; other sizes (the 100M figure, a smoke run) are their own rows.
const sized = (id) => (SPANS === 10_000_000 ? id : `${id}-${SPANS / 1e6}m`);
bench({
  id: sized('report-cost-per-pr-p95-ms'),
  label: `report cost-per-pr p95 at ${scale}`,
  value: Number(cpp.fast.p95.toFixed(1)),
  unit: 'ms',
  baseline: Number(cpp.raw.p95.toFixed(1)),
  baselineLabel: 'the same report over the raw spans table (FINAL), p95',
  aim: SPANS > 10_000_000 ? '<= 300' : '<= 100',
  met: cpp.fast.p95 <= (SPANS > 10_000_000 ? 300 : 100),
});
const worst = results.slice(1).reduce((a, b) => (b.fast.p95 > a.fast.p95 ? b : a));
const wasteJoin = before['cost-per-pr, waste from findings'];
bench({
  id: sized('report-cost-per-pr-waste-prelinked-p95-ms'),
  label: `report cost-per-pr p95 at ${scale}, findings of every session: waste prelinked (migration 0020)`,
  value: Number(cpp.fast.p95.toFixed(1)),
  unit: 'ms',
  baseline: Number(wasteJoin.p95.toFixed(1)),
  baselineLabel: 'before: spend prelinked, findings joined per query (p95)',
  aim: SPANS > 10_000_000 ? '<= 300' : '<= 100',
  met: cpp.fast.p95 <= (SPANS > 10_000_000 ? 300 : 100),
});
bench({
  id: sized('report-dashboard-p95-ms'),
  label: `worst dashboard call p95 at ${scale} (${worst.id})`,
  value: Number(worst.fast.p95.toFixed(1)),
  unit: 'ms',
  baseline: worst.raw ? Number(worst.raw.p95.toFixed(1)) : null,
  baselineLabel: worst.raw ? 'the same figure from the raw spans table, p95' : 'none (reads spans)',
  aim: SPANS > 10_000_000 ? '<= 300' : '<= 100',
  met: worst.fast.p95 <= (SPANS > 10_000_000 ? 300 : 100),
});
const hourly = before['cost-per-pr, hourly rows'];
bench({
  id: sized('report-cost-per-pr-totals-p95-ms'),
  label: `report cost-per-pr p95 at ${scale}: whole PRs read from their totals (migration 0023)`,
  value: Number(cpp.fast.p95.toFixed(1)),
  unit: 'ms',
  baseline: Number(hourly.p95.toFixed(1)),
  baselineLabel: 'before: every PR summed from the hourly prelinked rows (p95, same run)',
  aim: SPANS > 10_000_000 ? '<= 300' : '<= 100',
  met: cpp.fast.p95 <= (SPANS > 10_000_000 ? 300 : 100),
});
const ws = results.find((r) => r.id === 'dashboard/waste-series');
bench({
  id: sized('report-waste-series-p95-ms'),
  label: `dashboard waste-series p95 at ${scale}: whole hours from waste_kind_hour (migration 0023)`,
  value: Number(ws.fast.p95.toFixed(1)),
  unit: 'ms',
  baseline: Number(before['dashboard/waste-series'].p95.toFixed(1)),
  baselineLabel: 'before: every finding read with FINAL (p95, same run)',
  aim: SPANS > 10_000_000 ? '<= 300' : '<= 100',
  met: ws.fast.p95 <= (SPANS > 10_000_000 ? 300 : 100),
});
if (relinkRounds.length > 0)
  bench({
    id: sized('report-relink-detect-round-ms'),
    label: `re-link after a detect round at ${scale} (500 sessions scanned again, spans in 2 hours), median of ${relinkRounds.length}`,
    value: Number(relinkRounds[Math.floor(relinkRounds.length / 2)].toFixed(1)),
    unit: 'ms',
    baseline: Number(relinkMs.toFixed(1)),
    baselineLabel:
      're-link of all the waste at once (the bulk path, in the first report after the findings)',
    aim: 'a detect round re-links through keys, not every finding',
    met: relinkRounds[Math.floor(relinkRounds.length / 2)] < relinkMs,
  });
if (!REPORTS_ONLY) {
  bench({
    id: 'report-first-after-bulk-ms',
    label: `first cost-per-pr after a bulk load of ${scale}, detection catch-up included`,
    value: Number(firstMs.toFixed(1)),
    unit: 'ms',
    baseline: Number(oldFirstMs.toFixed(1)),
    baselineLabel: `before: one detect round (${oldRound} sessions) + report, projected from ${Math.min(OLD_SAMPLE, stale.length)} sessions scanned`,
    aim: '<= 2000',
    met: firstMs <= 2000,
  });
  bench({
    id: 'repair-startup-ms',
    label: `start-up rollup repair at ${scale} after a clean stop`,
    value: Number(repairMs.toFixed(1)),
    unit: 'ms',
    baseline: Number(repairFullMs.toFixed(1)),
    baselineLabel: 'full check of every hour (before)',
    aim: 'bounded to partitions written since the last clean stop',
    met: repairMs < repairFullMs,
  });
}
