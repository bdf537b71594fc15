// Benchmark: `report cost-per-pr` (PR linkage, rollup) over 90 days, beside the same query over the
// raw spans table, in the same run. Data is generated inside ClickHouse (chDB) with
// INSERT … SELECT FROM numbers(): HM_BENCH_LINK_SPANS spans (default 10,000,000) in 50,000 sessions of
// 200 spans over 50 minutes each, spread over 90 days; 20,000 PRs (5 events each: opened, pushed,
// review, check, merged for 80%); sessions linked explicitly, by commit, by branch, or not at all.
// Run: npm run bench (HM_BENCH=linkage for this one only; HM_BENCH_RUNS for the sample size).
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { costPerPr, migrateUp, openStore, toClickHouseTime } from '../queries/dist/index.js';
import { reportSql } from '../queries/dist/reports.js';
import { costPerPrParams } from './lib/link-data.js';

const SPANS = Number(process.env.HM_BENCH_LINK_SPANS ?? 10_000_000);
const PRS = 20_000;
const PER_SESSION = 200;
const RUNS = Number(process.env.HM_BENCH_RUNS ?? 20);
const RAW_RUNS = Number(process.env.HM_BENCH_RAW_RUNS ?? 5);
const DB = 'hm_bench_link';
const END = new Date('2026-11-29T00:00:00Z');
const START = new Date(END.getTime() - 90 * 86_400_000);
const CHUNK = 1_000_000;

const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-link-'));
const client = await openStore({ kind: 'chdb', dataDir });
await migrateUp(client, DB);
const sessions = Math.ceil(SPANS / PER_SESSION);
const sessionGapMs = Math.floor((90 * 86_400_000 - PER_SESSION * 15_000) / sessions);
const cmd = (query, params = {}) => client.command({ query, query_params: { db: DB, ...params } });

const t0 = performance.now();
for (let from = 0; from < SPANS; from += CHUNK) {
  // session s: PR (s % PRS) + 1 in repo acme/repo<pr % 10>; s % 4 says how it links:
  // 0 explicit PR on the span, 1 branch feat/<pr>, 2 commit of the PR (branch wip), 3 nothing.
  await cmd(
    `INSERT INTO {db:Identifier}.spans
       (Timestamp, EndTimestamp, TraceId, SpanId, SpanName, span_type, operation, provider, request_model,
        response_model, model, session_id, developer, team, repo, branch, commit, pr, intent, source,
        input_tokens, output_tokens, cost_nanos, price_id, unpriced, tool_name)
     SELECT
       toDateTime64({start:DateTime64(3, 'UTC')}, 9, 'UTC') + toIntervalMillisecond(s * {gap:UInt64} + k * 15000) AS ts,
       ts + toIntervalMillisecond(1500),
       lower(hex(toUInt128(s))), lower(hex(n)),
       if(k % 3 = 0, 'execute_tool Read', 'chat claude-sonnet-4-5'),
       if(k % 3 = 0, 'tool', 'llm'), if(k % 3 = 0, 'execute_tool', 'chat'), 'anthropic', 'claude-sonnet-4-5',
       'claude-sonnet-4-5', 'claude-sonnet-4-5',
       concat('sess-', toString(s)), concat('dev', toString(s % 300)), concat('team', toString(s % 20)),
       concat('https://github.com/acme/repo', toString(p % 10)),
       multiIf(s % 4 = 1, concat('feat/', toString(p)), s % 4 = 2, 'wip', s % 4 = 3, 'scratch', ''),
       if(s % 4 = 2, lower(hex(MD5(concat('sha', toString(p))))), ''),
       if(s % 4 = 0, p, 0), 'implement', 'sdk',
       if(k % 3 = 0, 0, 2000), if(k % 3 = 0, 0, 300),
       if(k % 3 = 0, NULL, toInt64(1000 + n % 1000)), if(k % 3 = 0, '', 'bench'), 0,
       if(k % 3 = 0, 'Read', '')
     FROM (SELECT number AS n, intDiv(number, ${PER_SESSION}) AS s, number % ${PER_SESSION} AS k,
                  toUInt32(intDiv(number, ${PER_SESSION}) % ${PRS} + 1) AS p
           FROM numbers({from:UInt64}, {count:UInt64}))`,
    {
      start: toClickHouseTime(START),
      gap: sessionGapMs,
      from,
      count: Math.min(CHUNK, SPANS - from),
    },
  );
}
const tSpans = performance.now() - t0;
const t1 = performance.now();
// PR p opens when its first session starts (session p - 1), merges 2 days later (80%).
await cmd(
  `INSERT INTO {db:Identifier}.pr_events
     (repo, pr, event_key, kind, at, author, actor, head_branch, base_branch, head_sha, created_at,
      review_state, check_name, check_conclusion, additions, deletions, changed_files, source, delivery_id)
   SELECT concat('acme/repo', toString(p % 10)), p, e.1, e.2,
          opened + toIntervalMinute(e.3), 'dev', '', concat('feat/', toString(p)), 'main',
          lower(hex(MD5(concat('sha', toString(p))))), opened,
          if(e.2 = 'review', if(p % 5 = 0, 'changes_requested', 'approved'), ''),
          if(e.2 = 'check', 'CI', ''), if(e.2 = 'check', if(p % 7 = 0, 'failure', 'success'), ''),
          toUInt32(p % 500), toUInt32(p % 50), 3, 'import-prs', ''
   FROM (SELECT toUInt32(number + 1) AS p,
                toDateTime64({start:DateTime64(3, 'UTC')}, 3, 'UTC') + toIntervalMillisecond(number * {gap:UInt64}) AS opened
         FROM numbers(${PRS}))
   ARRAY JOIN arrayFilter(x -> x.2 != 'merged' OR p % 5 != 1,
     [('opened', 'opened', 0), ('pushed:x', 'pushed', 30), ('review:1', 'review', 600),
      ('check:1', 'check', 700), ('merged', 'merged', 2880)]) AS e`,
  { start: toClickHouseTime(START), gap: sessionGapMs },
);
const tPrs = performance.now() - t1;
await cmd('OPTIMIZE TABLE {db:Identifier}.usage_by_link_hour FINAL');
const count = async (q) => {
  const rs = await client.query({ query: q, query_params: { db: DB }, format: 'JSONEachRow' });
  return Number((await rs.json())[0].n);
};
const spans = await count('SELECT count() AS n FROM {db:Identifier}.spans');
const rollup = await count('SELECT count() AS n FROM {db:Identifier}.usage_by_link_hour');
const events = await count('SELECT count() AS n FROM {db:Identifier}.pr_events');

const window = { since: new Date(END.getTime() - 90 * 86_400_000), until: END };
// The raw variant: the same report, the rollup subquery replaced by the same sums over spans FINAL.
const rawSource = `(SELECT toStartOfHour(Timestamp) AS hour, repo,
    lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
    branch, commit, pr, session_id, developer, team, intent,
    toUInt64(span_type = 'llm') AS llm_calls, toUInt64(span_type = 'tool') AS tool_calls,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    ifNull(cost_nanos, 0) AS cost_nanos, toInt64(unpriced) AS unpriced_calls
  FROM {db:Identifier}.spans FINAL WHERE span_type IN ('llm', 'tool'))`;
const rawSql = reportSql('cost_per_pr.sql').replaceAll(
  '{db:Identifier}.usage_by_link_hour',
  () => rawSource,
);
const params = costPerPrParams(DB, window);

async function time(runs, fn) {
  const ms = [];
  let rows = 0;
  for (let i = 0; i < runs + 1; i++) {
    const s = performance.now();
    rows = await fn();
    if (i > 0) ms.push(performance.now() - s); // first run warms caches
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)];
  return { p50: q(0.5), p95: q(0.95), rows };
}
const rolled = await time(
  RUNS,
  async () => (await costPerPr(client, { db: DB, ...window })).length,
);
const raw = await time(RAW_RUNS, async () => {
  const rs = await client.query({ query: rawSql, query_params: params, format: 'JSONEachRow' });
  return (await rs.json()).length;
});
await client.close();

const f = (x) => `${x.toFixed(1)} ms`;
console.log(`
bench linkage: report cost-per-pr over 90 days (linkage rules, waste join), chDB in-process
  machine:  ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}
  data:     ${spans.toLocaleString('en-US')} spans, ${sessions.toLocaleString('en-US')} sessions, ${PRS.toLocaleString('en-US')} PRs (${events.toLocaleString('en-US')} events)
            generated in ${(tSpans / 1000).toFixed(1)} s (spans + both rollups) and ${(tPrs / 1000).toFixed(1)} s (PR events)
  rollup:   usage_by_link_hour ${rollup.toLocaleString('en-US')} rows
  rollup    p50 ${f(rolled.p50)}  p95 ${f(rolled.p95)}  (${RUNS} runs, ${rolled.rows} rows)
  raw spans p50 ${f(raw.p50)}  p95 ${f(raw.p95)}  (${RAW_RUNS} runs, ${raw.rows} rows, spans FINAL)
  ratio     raw / rollup at p50: ${(raw.p50 / rolled.p50).toFixed(1)}×
`);
