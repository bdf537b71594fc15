// Benchmark: the dashboard. p95 of every API call the overview page makes (and the session timeline),
// over HTTP against a running receiver, at each size in HM_BENCH_DASH_SPANS (default 1M and 10M
// stored spans), beside the same totals / series computed on the raw spans table; and the first render
// of the overview in the system Chromium (navigation until nothing is loading) at the first size.
// Data is generated inside chDB with INSERT … SELECT FROM numbers(): sessions of 200 spans (2/3 LLM
// calls) over the last 30 days, 4 models, 20 teams, 300 developers, 10 repositories, explicit PRs,
// one redundancy finding per session. Run: npm run bench (HM_BENCH=dashboard for this one only).
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { migrateUp, openStore, toClickHouseTime } from '../queries/dist/index.js';
import { startReceiver } from '../pipeline/dist/ingest/server.js';
import { dashboardApi } from '../pipeline/dist/report/dashboard.js';
import { reportApi } from '../pipeline/dist/report/service.js';
import { createPageHandler } from '../pipeline/dist/page/serve.js';

const SIZES = (process.env.HM_BENCH_DASH_SPANS ?? '1000000,10000000').split(',').map(Number);
const RUNS = Number(process.env.HM_BENCH_RUNS ?? 20);
const PER_SESSION = 200;
const CHUNK = 1_000_000;
const DAYS = 30;
const WINDOW = { since: '30d' };

const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
async function time(runs, fn) {
  await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: q(ms, 0.5), p95: q(ms, 0.95) };
}
const f = (ms) => `${ms.toFixed(1).padStart(8)} ms`;

async function generate(client, db, spans) {
  const end = Date.now();
  const start = end - DAYS * 86_400_000;
  const sessions = Math.ceil(spans / PER_SESSION);
  const gap = Math.floor((DAYS * 86_400_000 - PER_SESSION * 15_000) / sessions);
  for (let from = 0; from < spans; from += CHUNK) {
    await client.command({
      query: `INSERT INTO {db:Identifier}.spans
        (Timestamp, EndTimestamp, TraceId, SpanId, SpanName, span_type, operation, provider, request_model,
         response_model, model, session_id, developer, team, repo, branch, pr, intent, source,
         input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, price_id, unpriced,
         tool_name, result_tokens, Duration)
        SELECT
          toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMillisecond(s * {gap:UInt64} + k * 15000) AS ts,
          ts + toIntervalMillisecond(1500), lower(hex(toUInt128(s))), lower(hex(n)),
          if(k % 3 = 0, 'execute_tool Read', 'chat model'), if(k % 3 = 0, 'tool', 'llm'),
          if(k % 3 = 0, 'execute_tool', 'chat'), 'anthropic', m, m, if(k % 3 = 0, '', m),
          concat('sess-', toString(s)), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
          concat('https://github.com/acme/repo', toString(s % 10)), 'feat/x', toUInt32(s % 5000 + 1), 'implement', 'sdk',
          if(k % 3 = 0, 0, 20000), if(k % 3 = 0, 0, 300), if(k % 3 = 0, 0, 15000), if(k % 3 = 0, 0, 2000),
          if(k % 3 = 0, NULL, toInt64(10000 + n % 1000)), if(k % 3 = 0, '', 'bench'), 0,
          if(k % 3 = 0, 'Read', ''), if(k % 3 = 0, 800, 0), 1500000000
        FROM (SELECT number AS n, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS k,
                     ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o', 'gpt-4o-mini'][intDiv(number, ${PER_SESSION}) % 4 + 1] AS m
              FROM numbers({from:UInt64}, {count:UInt64}))`,
      query_params: {
        db,
        start: toClickHouseTime(new Date(start)),
        gap,
        from,
        count: Math.min(CHUNK, spans - from),
      },
    });
  }
  // One re-read per session (its 4th span repeats its first), found by the latest scan.
  await client.command({
    query: `INSERT INTO {db:Identifier}.waste_findings
      (session_id, span_id, trace_id, scan_id, Timestamp, kind, repeats_span_id, tool_name, repo, pr, developer, team,
       result_tokens, wasted_tokens, direct_cost_nanos, carried_tokens, carried_cost_nanos, loop_length, fully_priced)
      SELECT concat('sess-', toString(s)), lower(hex(toUInt64(s * ${PER_SESSION} + 3))), lower(hex(toUInt128(s))), 1,
             toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMillisecond(s * {gap:UInt64} + 45000),
             're_read', lower(hex(toUInt64(s * ${PER_SESSION}))), 'Read', concat('https://github.com/acme/repo', toString(s % 10)),
             toUInt32(s % 5000 + 1), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
             800, 820, 2400, 80000, 24000, 0, 1
      FROM (SELECT number AS s FROM numbers({sessions:UInt64}))`,
    query_params: { db, start: toClickHouseTime(new Date(start)), gap, sessions },
  });
  await client.command({
    query: `INSERT INTO {db:Identifier}.session_scans (session_id, scan_id, last_ingested_at, spans, findings)
            SELECT concat('sess-', toString(number)), 1, now64(3), ${PER_SESSION}, 1 FROM numbers({sessions:UInt64})`,
    query_params: { db, sessions },
  });
}

function chromiumPath() {
  return [process.env.HM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
    (p) => p && existsSync(p),
  );
}

async function firstRender(url) {
  const path = chromiumPath();
  if (!path) return undefined;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: path });
  const ms = [];
  try {
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(`${url}/#/overview?since=30d&r=${String(i)}`);
      await page.locator('[data-testid="total-cost"]').waitFor({ timeout: 60_000 });
      while ((await page.locator('#app .loading').count()) > 0)
        await new Promise((r) => setTimeout(r, 10));
      ms.push(performance.now() - t);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  ms.sort((a, b) => a - b);
  return { p50: q(ms, 0.5), max: ms[ms.length - 1] };
}

console.log(
  `dashboard  node ${process.version}  ${os.platform()} ${os.arch()}, ${os.cpus().length} cores, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}  chDB in-process  ${RUNS} runs after 1 warm-up, p50/p95 over HTTP`,
);
for (const [i, spans] of SIZES.entries()) {
  const db = `hm_bench_dash_${String(i)}`;
  const client = await openStore({
    kind: 'chdb',
    dataDir: mkdtempSync(join(os.tmpdir(), 'hm-bench-dash-')),
  });
  await migrateUp(client, db);
  const t0 = performance.now();
  await generate(client, db, spans);
  const genS = (performance.now() - t0) / 1000;
  const receiver = await startReceiver({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: 1_000_000,
    api: { ...reportApi(client, db), ...dashboardApi(client, db) },
    page: createPageHandler(),
  });
  const get = async (route, params) => {
    const res = await fetch(
      `${receiver.url}/api/v1/${route}?${new URLSearchParams(params).toString()}`,
    );
    if (!res.ok) throw new Error(`${route}: ${String(res.status)} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const raw = async (query) => {
    const rs = await client.query({ query, query_params: { db }, format: 'JSONEachRow' });
    await rs.json();
  };
  const calls = [
    ['dashboard/summary', WINDOW],
    ['dashboard/series by model', { ...WINDOW, by: 'model', step: '43200' }, 'dashboard/series'],
    ['dashboard/waste-series', { ...WINDOW, step: '43200' }],
    ['reports/cost-per-pr', WINDOW],
    ['reports/alerts', WINDOW],
    ['dashboard/filters', WINDOW],
    ['dashboard/session', { session: 'sess-7' }],
  ];
  console.log(
    `\n${spans.toLocaleString('en-US')} spans stored (generated in ${genS.toFixed(1)} s)`,
  );
  for (const [label, params, route] of calls) {
    const t = await time(RUNS, () => get(route ?? label, params));
    console.log(`  ${label.padEnd(36)} p50 ${f(t.p50)}  p95 ${f(t.p95)}`);
  }
  const since = 'now() - INTERVAL 30 DAY';
  const rawSummary = await time(Math.min(RUNS, 5), () =>
    raw(`SELECT sum(ifNull(cost_nanos, 0)), countIf(span_type = 'llm'), sum(input_tokens), sum(output_tokens)
         FROM (SELECT * FROM {db:Identifier}.spans WHERE Timestamp >= ${since} AND span_type IN ('llm', 'tool')
               ORDER BY row_version DESC LIMIT 1 BY TraceId, SpanId)`),
  );
  const rawSeries = await time(Math.min(RUNS, 5), () =>
    raw(`SELECT toStartOfInterval(Timestamp, INTERVAL 12 HOUR) AS b, model, sum(ifNull(cost_nanos, 0))
         FROM {db:Identifier}.spans FINAL WHERE Timestamp >= ${since} AND span_type IN ('llm', 'tool') GROUP BY b, model`),
  );
  console.log(
    `  baseline: summary on raw spans        p50 ${f(rawSummary.p50)}  p95 ${f(rawSummary.p95)}  (current version of each span)`,
  );
  console.log(
    `  baseline: series on raw spans (FINAL) p50 ${f(rawSeries.p50)}  p95 ${f(rawSeries.p95)}`,
  );
  if (i === 0) {
    const r = await firstRender(receiver.url);
    console.log(
      r
        ? `  overview first render in Chromium     p50 ${f(r.p50)}  max ${f(r.max)}  (5 cold contexts, navigation until nothing loads)`
        : '  overview first render: no Chromium (apt-get install chromium, or HM_CHROMIUM)',
    );
  }
  await receiver.close();
  await client.close();
}
