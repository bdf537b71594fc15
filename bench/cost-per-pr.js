// Benchmark: `report cost-per-pr` alone at 10M spans / 20k PRs (issue 17, "Reports"), split into its
// parts and measured A/B against the previous row path on the same store, alternating calls.
// The store is generated as bench/reports.js generates it above 10M (bench/lib/link-data.js: PR facts,
// spans with the views detached and the rollups filled once, every session's findings, then the first
// report re-links everything). HM_BENCH_REPORT_DIR=<folder> keeps the store there and reuses it on the
// next run (its window is saved beside it), so A/B rounds do not regenerate 10M spans each time.
// Run: HM_BENCH=cost-per-pr npm run bench; smoke: HM_BENCH_REPORT_SPANS=200000 HM_BENCH_REPORT_PRS=1000.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { costPerPr, migrateUp, openStore } from '../queries/dist/index.js';
import { PRELINKED_FRAGMENTS, runReport } from '../queries/dist/reports.js';
import {
  insertFindings,
  insertPrEvents,
  insertSpansBulk,
  costPerPrParams,
} from './lib/link-data.js';

const SPANS = Number(process.env.HM_BENCH_REPORT_SPANS ?? 10_000_000);
const PRS = Number(process.env.HM_BENCH_REPORT_PRS ?? 20_000);
const RUNS = Number(process.env.HM_BENCH_RUNS ?? 20);
const DB = 'hm_bench_reports';
const load = () => Number(os.loadavg()[0].toFixed(2));

const keep = process.env.HM_BENCH_REPORT_DIR;
const dataDir = keep ?? mkdtempSync(join(os.tmpdir(), 'hm-bench-costpr-'));
const metaFile = join(dataDir, 'hm-bench-cost-per-pr.json');
let meta = existsSync(metaFile) ? JSON.parse(readFileSync(metaFile, 'utf8')) : null;
if (meta && (meta.spans !== SPANS || meta.prs !== PRS))
  throw new Error(
    `${dataDir} holds ${meta.spans} spans / ${meta.prs} PRs, not ${SPANS} / ${PRS}: use another HM_BENCH_REPORT_DIR`,
  );
if (keep) mkdirSync(dataDir, { recursive: true });
const client = await openStore({ kind: 'chdb', dataDir });
let genS = 0;
if (!meta) {
  const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
  const start = new Date(end.getTime() - 90 * 86_400_000);
  const t0 = performance.now();
  await migrateUp(client, DB);
  const gen = { spans: SPANS, prs: PRS, start, end, chunk: 1_000_000 };
  await insertPrEvents(client, DB, gen);
  await insertSpansBulk(client, DB, gen);
  await insertFindings(client, DB, gen);
  meta = { spans: SPANS, prs: PRS, start: start.toISOString(), end: end.toISOString() };
  // The first report re-links everything (a bulk load): not timed here (bench/reports.js times it).
  await costPerPr(client, {
    db: DB,
    since: start,
    until: new Date(end.getTime() + 60_000),
  });
  genS = (performance.now() - t0) / 1000;
  if (keep) writeFileSync(metaFile, JSON.stringify(meta));
}
const window = {
  since: new Date(meta.start),
  until: new Date(new Date(meta.end).getTime() + 60_000),
};
const w = { db: DB, ...window };
const params = costPerPrParams(DB, window);

// The parts of one call, each timed alone (p50 of RUNS): the re-link check (withPrelinked) alone and
// with the bound that spares the cut-PR query, that query, the main query's SQL alone (FORMAT Null),
// the same with its result transferred as text (the projection before: cost_per_pr.sql's, values
// formatted by chDB) and as RowBinary (now: values as they are), the rows read from each (TSV reader,
// RowBinary reader), and JSON out (what the server sends, not part of the figure).
const { withPrelinked } = await import('../queries/dist/prelink.js');
const { PRELINKED_WHOLE_FRAGMENTS, reportSql, runReportBytes } =
  await import('../queries/dist/report-sql.js');
const { readCostPerPrRowBinary, readCostPerPrTsv } =
  await import('../queries/dist/cost-per-pr-rows.js');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// Wall p50 and process CPU p50 (chDB's threads included): on a loaded machine CPU is the steadier.
const p50 = async (fn) => {
  await fn();
  const ms = [];
  const cpu = [];
  for (let i = 0; i < RUNS; i++) {
    const c = cpuMs();
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  const mid = (xs) => Number(xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)].toFixed(1));
  return { ms: mid(ms), cpu: mid(cpu) };
};
// A fresh store's PR totals are written by the pass after the whole re-link: run it before reading.
await costPerPr(client, w);
const [cut] = await runReport(client, 'cost-per-pr', 'pr_totals_cut.sql', params);
const whole = Number(cut.n) === 0;
const swap = whole ? PRELINKED_WHOLE_FRAGMENTS : PRELINKED_FRAGMENTS;
const mainSql = reportSql('cost_per_pr_totals.sql', 0, swap);
// The text projection before (main at 49b8643): cost_per_pr.sql's, over the same rows.
const textProjection = (sql) => sql.slice(sql.indexOf('SELECT'), sql.search(/\nFROM[ \n]\(/));
const textSql = (s) => {
  const sql = reportSql('cost_per_pr_totals.sql', 0, s);
  return `${textProjection(reportSql('cost_per_pr.sql'))}\n${sql.slice(sql.search(/\nFROM[ \n]\(/) + 1)}`;
};
const readText = async (s) =>
  (
    await client.query({
      query: textSql(s),
      query_params: params,
      format: 'TabSeparatedWithNames',
      clickhouse_settings: { log_comment: 'harness-meter report cost-per-pr' },
    })
  ).text();
const text = await readText(swap);
const readBytes = () =>
  runReportBytes(
    client,
    'cost-per-pr',
    'cost_per_pr_totals.sql',
    params,
    swap,
    'RowBinaryWithNamesAndTypes',
  );
const bytes = await readBytes();
let out = [];
const parts = {
  check: await p50(() => withPrelinked(client, DB, params.until, async () => 0)),
  checkWithBound: await p50(() =>
    withPrelinked(client, DB, params.until, async () => 0, true, {
      columns: `${reportSql('_pr_totals_whole.sql')} AS whole`,
      params,
    }),
  ),
  cut: await p50(() => runReport(client, 'cost-per-pr', 'pr_totals_cut.sql', params)),
  sqlNull: await p50(() =>
    client.command({ query: `${mainSql}\nFORMAT Null`, query_params: params }),
  ),
  sqlText: await p50(() => readText(swap)),
  sqlBinary: await p50(readBytes),
  rowsText: await p50(async () => readCostPerPrTsv(text)),
  rowsBinary: await p50(async () => {
    out = readCostPerPrRowBinary(bytes);
  }),
  json: await p50(async () => JSON.stringify(out)),
};
if (JSON.stringify(readCostPerPrTsv(text)) !== JSON.stringify(out))
  throw new Error('the text and binary projections give different rows');

// Before: main's costPerPr at 49b8643 on the unfiltered totals path (the re-link check, then the
// cut-PR count as a query of its own, then the text projection read by the TSV reader), asserted to
// take that path; A/B alternated call by call on the same store, wall and process CPU each.
const before = async () =>
  withPrelinked(client, DB, params.until, async (pre, wasteLinked) => {
    const [c] = await runReport(client, 'cost-per-pr', 'pr_totals_cut.sql', params);
    if (!pre || !wasteLinked || Number(c.stale) !== 0) throw new Error('not the totals path');
    return readCostPerPrTsv(
      await readText(Number(c.n) === 0 ? PRELINKED_WHOLE_FRAGMENTS : PRELINKED_FRAGMENTS),
    );
  });
const now = () => costPerPr(client, w);
const a = await now();
const b = await before();
if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('the two paths give different rows');
const ab = { now: { ms: [], cpu: [] }, before: { ms: [], cpu: [] } };
for (let i = 0; i < RUNS * 2; i++) {
  const [name, fn] = i % 2 === 0 ? ['now', now] : ['before', before];
  const c0 = cpuMs();
  const t0 = performance.now();
  await fn();
  ab[name].ms.push(performance.now() - t0);
  ab[name].cpu.push(cpuMs() - c0);
}
const pct = (xs, p) => {
  const s = [...xs].sort((x, y) => x - y);
  return Number(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)].toFixed(1));
};
const stat = (x) => ({ p50: pct(x.ms, 0.5), p95: pct(x.ms, 0.95), cpuP50: pct(x.cpu, 0.5) });
const nowS = stat(ab.now);
const beforeS = stat(ab.before);
const scale = `${(SPANS / 1e6).toFixed(SPANS < 1e6 ? 1 : 0)}M spans / ${PRS} PRs`;
console.log(`
bench cost-per-pr: ${scale}, ${a.length} rows, ${text.length} bytes of TSV, ${bytes.length} of RowBinary, window cuts ${whole ? 'no PR' : 'some PRs'}${genS ? `, generated in ${genS.toFixed(0)} s` : ', reused store'}
  parts (p50 of ${RUNS}: wall ms, process CPU ms): ${JSON.stringify(parts)}
  now:    p50 ${nowS.p50} ms, p95 ${nowS.p95} ms, process CPU p50 ${nowS.cpuP50} ms
  before: p50 ${beforeS.p50} ms, p95 ${beforeS.p95} ms, process CPU p50 ${beforeS.cpuP50} ms (main's path at 49b8643: check, cut-PR query, text projection, TSV reader)
  load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`);
const bench = (r) => console.log(`BENCH_RESULT ${JSON.stringify(r)}`);
bench({
  id: 'report-cost-per-pr-rows-p95-ms',
  label: `report cost-per-pr p95 at ${scale}, A/B on one store`,
  value: nowS.p95,
  unit: 'ms',
  baseline: beforeS.p95,
  baselineLabel:
    "main's path at 49b8643 (re-link check, cut-PR query, text projection and TSV reader), alternated call by call",
  aim: '<= 100',
  met: nowS.p95 <= 100,
  load: load(),
});
await client.close();
if (!keep) rmSync(dataDir, { recursive: true, force: true });
