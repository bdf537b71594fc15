// Writes deploy/grafana/dashboards/harness-meter.json: the Grafana dashboard for teams on a ClickHouse
// server (grafana-clickhouse-datasource). The PR and waste tables are the reports' own SQL
// (queries/reports/*.sql, fragments inlined), with the report parameters turned into the plugin's
// macros and the dashboard's variables, so a number there is the CLI's for the same window.
// Run: npm run gen:grafana (after a build). test/integration/grafana.test.ts runs every panel in chDB.
import { writeFileSync } from 'node:fs';
import { reportSql } from '../queries/dist/index.js';

const DS = { type: 'grafana-clickhouse-datasource', uid: 'harness-meter-clickhouse' };
const FILTERS = ['repo', 'team', 'developer', 'model'];

/** Report parameters → Grafana: the window from the time picker, filters from the variables. */
function fromReport(file, fixed = {}) {
  let sql = reportSql(file)
    .replace(/\{db:Identifier\}/g, '${database}')
    .replace(/\{(since|span_since):DateTime64\(3, 'UTC'\)\}/g, '$__fromTime')
    .replace(/\{until:DateTime64\(3, 'UTC'\)\}/g, '$__toTime');
  for (const f of FILTERS) sql = sql.replaceAll(`{${f}:String}`, `\${${f}:sqlstring}`);
  for (const [k, v] of Object.entries(fixed)) sql = sql.replaceAll(`{${k}:String}`, `'${v}'`);
  const left = /(?<!\$)\{[a-z_]+:[A-Z][A-Za-z0-9(), ']*\}/.exec(sql);
  if (left) throw new Error(`${file}: parameter ${left[0]} has no Grafana equivalent`);
  return sql.trim();
}

const filterSql = (prefix = '') =>
  FILTERS.map((f) => `(\${${f}:sqlstring} = '' OR ${prefix}${f} = \${${f}:sqlstring})`).join(
    '\n  AND ',
  );

const WINDOW = 'minute >= toStartOfMinute($__fromTime) AND minute < $__toTime';

const LATEST_FINDINGS = `SELECT f.* FROM \${database}.waste_findings AS f FINAL
  INNER JOIN (SELECT session_id, max(scan_id) AS scan_id FROM \${database}.session_scans GROUP BY session_id) AS latest
    ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id`;

const SQL = {
  totals: `-- Totals of the window (the rollup, as \`report cost\`), with the filters.
SELECT
  sum(u.cost_nanos) AS cost_nanos,
  sum(u.cost_nanos) / 1e9 AS cost_usd,
  sum(llm_calls) AS llm_calls,
  sum(tool_calls) AS tool_calls,
  sum(unpriced_calls) AS unpriced_calls,
  uniqExactIf(session_id, session_id != '') AS sessions
FROM \${database}.usage_by_minute AS u
WHERE ${WINDOW}
  AND ${filterSql()}`,
  tokens: `-- Tokens by kind: fresh input, cache read, cache write, output (reasoning included).
SELECT
  sum(input_tokens) - sum(cache_read_tokens) - sum(cache_write_tokens) AS input_fresh,
  sum(cache_read_tokens) AS cache_read,
  sum(cache_write_tokens) AS cache_write,
  sum(output_tokens) AS output
FROM \${database}.usage_by_minute
WHERE ${WINDOW}
  AND ${filterSql()}`,
  spendSeries: `-- Spend per interval, one series per model.
SELECT
  $__timeInterval(minute) AS time,
  if(model = '', '(none)', model) AS model,
  sum(u.cost_nanos) / 1e9 AS cost_usd
FROM \${database}.usage_by_minute AS u
WHERE $__timeFilter(minute)
  AND ${filterSql()}
GROUP BY time, model
ORDER BY time, model`,
  wasteTotals: `-- Redundant calls in the window (each session's latest scan): direct and carried dollars.
SELECT
  count() AS occurrences,
  sum(w.direct_cost_nanos) AS direct_cost_nanos,
  sum(w.carried_cost_nanos) AS carried_cost_nanos,
  (sum(w.direct_cost_nanos) + sum(w.carried_cost_nanos)) / 1e9 AS waste_usd
FROM (${LATEST_FINDINGS}) AS w
WHERE Timestamp >= $__fromTime AND Timestamp < $__toTime
  AND (\${repo:sqlstring} = '' OR repo = \${repo:sqlstring})
  AND (\${team:sqlstring} = '' OR team = \${team:sqlstring})
  AND (\${developer:sqlstring} = '' OR developer = \${developer:sqlstring})`,
  wasteSeries: `-- Waste dollars (direct + carried) per interval, one series per kind.
SELECT
  $__timeInterval(Timestamp) AS time,
  kind,
  (sum(direct_cost_nanos) + sum(carried_cost_nanos)) / 1e9 AS waste_usd
FROM (${LATEST_FINDINGS}) AS w
WHERE $__timeFilter(Timestamp)
GROUP BY time, kind
ORDER BY time, kind`,
};

let id = 0;
const grid = (x, y, w, h) => ({ x, y, w, h });
function panel(type, title, sql, gridPos, extra = {}) {
  id += 1;
  const timeSeries = type === 'timeseries';
  return {
    id,
    type,
    title,
    datasource: DS,
    gridPos,
    targets: [
      {
        refId: 'A',
        datasource: DS,
        editorType: 'sql',
        queryType: timeSeries ? 'timeSeries' : 'table',
        format: timeSeries ? 0 : 1,
        rawSql: sql,
      },
    ],
    ...extra,
  };
}
const stat = (field, unit) => ({
  options: { reduceOptions: { calcs: ['lastNotNull'], fields: `/^${field}$/` }, colorMode: 'none' },
  fieldConfig: { defaults: { unit, decimals: unit === 'currencyUSD' ? 4 : 0 }, overrides: [] },
});

const variable = (name, column, table = 'usage_by_minute') => ({
  name,
  label: name,
  type: 'query',
  datasource: DS,
  query: `SELECT DISTINCT ${column} FROM \${database}.${table} WHERE ${column} != '' ORDER BY ${column}`,
  definition: `SELECT DISTINCT ${column} FROM \${database}.${table} WHERE ${column} != '' ORDER BY ${column}`,
  includeAll: true,
  allValue: "''",
  multi: false,
  refresh: 2,
  current: { text: 'All', value: '$__all' },
});

const dashboard = {
  uid: 'harness-meter',
  title: 'harness-meter: agent cost and waste',
  description:
    'Generated by scripts/gen-grafana.js from queries/reports; tested in test/integration/grafana.test.ts.',
  tags: ['harness-meter', 'ai-agents', 'cost'],
  timezone: 'utc',
  schemaVersion: 39,
  version: 1,
  editable: true,
  time: { from: 'now-7d', to: 'now' },
  refresh: '1m',
  templating: {
    list: [
      {
        name: 'database',
        type: 'constant',
        query: 'harness_meter',
        hide: 2,
        label: 'HM_CLICKHOUSE_DATABASE',
      },
      variable('repo', 'repo'),
      variable('team', 'team'),
      variable('developer', 'developer'),
      variable('model', 'model'),
    ],
  },
  panels: [
    {
      id: 100,
      type: 'row',
      title: 'Overview',
      gridPos: grid(0, 0, 24, 1),
      collapsed: false,
      panels: [],
    },
    panel('stat', 'Spend', SQL.totals, grid(0, 1, 6, 4), stat('cost_usd', 'currencyUSD')),
    panel('stat', 'LLM calls', SQL.totals, grid(6, 1, 6, 4), stat('llm_calls', 'none')),
    panel(
      'stat',
      'Unpriced calls (cost unknown, not $0)',
      SQL.totals,
      grid(12, 1, 6, 4),
      stat('unpriced_calls', 'none'),
    ),
    panel(
      'stat',
      'Waste (direct + carried)',
      SQL.wasteTotals,
      grid(18, 1, 6, 4),
      stat('waste_usd', 'currencyUSD'),
    ),
    panel('timeseries', 'Spend by model', SQL.spendSeries, grid(0, 5, 16, 9), {
      fieldConfig: {
        defaults: {
          unit: 'currencyUSD',
          custom: { drawStyle: 'bars', stacking: { mode: 'normal' }, fillOpacity: 80 },
        },
        overrides: [],
      },
    }),
    panel('bargauge', 'Tokens by kind', SQL.tokens, grid(16, 5, 8, 9), {
      options: {
        orientation: 'horizontal',
        reduceOptions: { calcs: ['lastNotNull'], values: false },
      },
      fieldConfig: { defaults: { unit: 'short' }, overrides: [] },
    }),
    {
      id: 101,
      type: 'row',
      title: 'Pull requests',
      gridPos: grid(0, 14, 24, 1),
      collapsed: false,
      panels: [],
    },
    panel(
      'table',
      'Cost per pull request (report cost-per-pr)',
      fromReport('cost_per_pr.sql'),
      grid(0, 15, 24, 10),
      {
        fieldConfig: { defaults: {}, overrides: [] },
      },
    ),
    {
      id: 102,
      type: 'row',
      title: 'Waste',
      gridPos: grid(0, 25, 24, 1),
      collapsed: false,
      panels: [],
    },
    panel('timeseries', 'Waste by kind', SQL.wasteSeries, grid(0, 26, 12, 9), {
      fieldConfig: {
        defaults: {
          unit: 'currencyUSD',
          custom: { drawStyle: 'bars', stacking: { mode: 'normal' }, fillOpacity: 80 },
        },
        overrides: [],
      },
    }),
    panel(
      'table',
      'Redundant calls by kind (report waste)',
      fromReport('waste_by.sql', { by: 'kind' }),
      grid(12, 26, 12, 9),
    ),
    panel(
      'table',
      'Redundant calls by tool (report waste --by tool)',
      fromReport('waste_by.sql', { by: 'tool' }),
      grid(0, 35, 12, 8),
    ),
    panel(
      'table',
      'Redundant calls by developer (report waste --by developer)',
      fromReport('waste_by.sql', { by: 'developer' }),
      grid(12, 35, 12, 8),
    ),
  ],
};

const out = new URL('../deploy/grafana/dashboards/harness-meter.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(dashboard, null, 2)}\n`);
process.stdout.write(`wrote ${out.pathname}: ${String(dashboard.panels.length)} panels\n`);
