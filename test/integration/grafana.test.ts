import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costBy,
  costPerPr,
  dashboardSummary,
  wasteBy,
  type ClickHouseClient,
} from '@harness-meter/queries';
import type { RunningServer } from '../../pipeline/src/embedded.js';
import { runDemo } from '../../pipeline/src/demo/harness.js';
import { expandGrafanaSql, type GrafanaContext } from '../helpers/grafana.js';
import { startTestServer } from '../helpers/server.js';

// Every panel of deploy/grafana/dashboards/harness-meter.json, expanded as Grafana and the ClickHouse
// plugin would, runs against the real schema in chDB with the demo's sessions, and its numbers equal
// the reports' for the same window and filters.

interface Target {
  rawSql: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
  allValue?: string;
}
const dashboard = JSON.parse(
  readFileSync(
    new URL('../../deploy/grafana/dashboards/harness-meter.json', import.meta.url),
    'utf8',
  ),
) as { panels: Panel[]; templating: { list: Variable[] } };

const DB = 'harness_meter'; // the dashboard's `database` constant, HM_CLICKHOUSE_DATABASE's default
let server: RunningServer;
let client: ClickHouseClient;
const from = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000);
const to = new Date(from.getTime() + 3 * 3_600_000);

const allValues = Object.fromEntries(
  dashboard.templating.list
    .filter((v) => v.allValue !== undefined)
    .map((v) => [v.name, v.allValue!]),
);
function ctx(vars: Record<string, string> = {}): GrafanaContext {
  return {
    from,
    to,
    intervalSeconds: 300,
    vars: {
      database: DB,
      repo: '$__all',
      team: '$__all',
      developer: '$__all',
      model: '$__all',
      ...vars,
    },
    allValues,
  };
}

async function run(sql: string): Promise<Record<string, unknown>[]> {
  const rs = await client.query({ query: sql, format: 'JSONEachRow' });
  return rs.json<Record<string, unknown>>();
}
const panel = (title: string): Panel => {
  const p = dashboard.panels.find((x) => x.title === title);
  if (!p?.targets?.[0]) throw new Error(`no panel ${title}`);
  return p;
};
const rowsOf = (
  title: string,
  vars: Record<string, string> = {},
): Promise<Record<string, unknown>[]> =>
  run(expandGrafanaSql(panel(title).targets![0]!.rawSql, ctx(vars)));
const sumBig = (rows: Record<string, unknown>[], col: string): bigint =>
  rows.reduce((t, r) => t + BigInt(r[col] as string | number), 0n);

beforeAll(async () => {
  server = await startTestServer('grafana', DB);
  client = server.client;
  await runDemo({ endpoint: `${server.receiver.url}/v1/traces` });
  await server.sink.flush();
  await server.detect.catchUp();
}, 120_000);
afterAll(() => server?.stop());

describe('Grafana dashboard SQL, expanded and run in chDB', () => {
  it('every panel and variable query runs, with the expected columns', async () => {
    const expected: Record<string, string[]> = {
      Spend: ['cost_nanos', 'cost_usd', 'llm_calls', 'tool_calls', 'unpriced_calls', 'sessions'],
      'Spend by model': ['time', 'model', 'cost_usd'],
      'Tokens by kind': ['input_fresh', 'cache_read', 'cache_write', 'output'],
      'Waste (direct + carried)': [
        'occurrences',
        'direct_cost_nanos',
        'carried_cost_nanos',
        'waste_usd',
      ],
      'Waste by kind': ['time', 'kind', 'waste_usd'],
      'Cost per pull request (report cost-per-pr)': [
        'repo',
        'pr',
        'cost_nanos',
        'wasted_cost_nanos',
        'rules',
        'state',
      ],
      'Redundant calls by kind (report waste)': [
        'key',
        'occurrences',
        'direct_cost_nanos',
        'carried_cost_nanos',
      ],
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const p of panels) {
      for (const vars of [
        {},
        {
          team: 'payments',
          developer: 'ana',
          model: 'claude-sonnet-4-5',
          repo: 'https://github.com/acme/payments-api',
        },
      ]) {
        const rows = await rowsOf(p.title, vars);
        const want = expected[p.title];
        if (want && Object.keys(vars).length === 0) {
          expect(rows.length, p.title).toBeGreaterThan(0);
          for (const c of want) expect(Object.keys(rows[0]!), p.title).toContain(c);
        }
      }
    }
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const values = await run(expandGrafanaSql(v.query, ctx()));
      expect(values.length, v.name).toBeGreaterThan(0);
    }
  });

  it('overview totals equal `report cost` and the dashboard API, with and without filters', async () => {
    const [all] = await rowsOf('Spend');
    const byModel = await costBy(client, { db: DB, by: 'model', since: from, until: to });
    expect(String(all!.cost_nanos)).toBe(
      sumBig(byModel as unknown as Record<string, unknown>[], 'cost_nanos').toString(),
    );
    expect(Number(all!.llm_calls)).toBe(byModel.reduce((t, r) => t + r.llm_calls, 0));
    expect(Number(all!.unpriced_calls)).toBe(2);
    const [team] = await rowsOf('Spend', { team: 'payments' });
    const api = await dashboardSummary(client, {
      db: DB,
      since: from,
      until: to,
      team: 'payments',
    });
    expect(String(team!.cost_nanos)).toBe(api.cost_nanos);
    expect(String(team!.cost_nanos)).not.toBe(String(all!.cost_nanos));
    const [tokens] = await rowsOf('Tokens by kind');
    const whole = await dashboardSummary(client, { db: DB, since: from, until: to });
    expect(Number(tokens!.input_fresh)).toBe(whole.fresh_input_tokens);
    expect(Number(tokens!.cache_read)).toBe(whole.cache_read_tokens);
    expect(Number(tokens!.output)).toBe(whole.output_tokens);
    // The series adds up to the total.
    const series = await rowsOf('Spend by model');
    const seriesUsd = series.reduce((t, r) => t + Number(r.cost_usd), 0);
    expect(seriesUsd).toBeCloseTo(Number(all!.cost_usd), 9);
  });

  it('the PR table is `report cost-per-pr`, row for row, also filtered', async () => {
    for (const vars of [{}, { team: 'web' }]) {
      const rows = await rowsOf('Cost per pull request (report cost-per-pr)', vars);
      const report = await costPerPr(client, { db: DB, since: from, until: to, ...vars });
      expect(report.length).toBeGreaterThan(0);
      expect(
        rows.map((r) => [
          r.repo,
          Number(r.pr) || null,
          String(r.cost_nanos),
          String(r.wasted_cost_nanos),
        ]),
      ).toEqual(report.map((r) => [r.repo, r.pr, r.cost_nanos, r.wasted_cost_nanos]));
    }
  });

  it('waste panels equal `report waste`', async () => {
    const byKind = await wasteBy(client, { db: DB, by: 'kind', since: from, until: to });
    expect(byKind.map((r) => r.key)).toEqual(['re_read']);
    const rows = await rowsOf('Redundant calls by kind (report waste)');
    expect(
      rows.map((r) => [r.key, String(r.direct_cost_nanos), String(r.carried_cost_nanos)]),
    ).toEqual(byKind.map((r) => [r.key, r.direct_cost_nanos, r.carried_cost_nanos]));
    const [total] = await rowsOf('Waste (direct + carried)');
    expect(String(total!.direct_cost_nanos)).toBe(byKind[0]!.direct_cost_nanos);
    expect(String(total!.carried_cost_nanos)).toBe(byKind[0]!.carried_cost_nanos);
    const series = await rowsOf('Waste by kind');
    expect(series.reduce((t, r) => t + Number(r.waste_usd), 0)).toBeCloseTo(byKind[0]!.cost_usd, 9);
  });
});
