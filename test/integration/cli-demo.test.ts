import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getOnce, reportRows, runCli, startServerProcess } from '../helpers/cli.js';
import { tempDataDir } from '../helpers/store.js';
import { REPORT_NAMES } from '../../pipeline/src/report/service.js';
import { schemaProblems } from '../../pipeline/src/report/schema.js';

// An honest first run (issue 14), against a real `harness-meter start` (chDB) in another process:
// the demo fails loudly on a wrong endpoint, a second run changes nothing, --reset removes it,
// and the CLI's JSON is the HTTP API's.
let server: { child: ChildProcess; url: string; output: () => string };
let env: Record<string, string>;

beforeAll(async () => {
  const port = await freePort();
  env = {
    HM_DATA_DIR: tempDataDir('cli-demo'),
    HM_PORT: String(port),
    HM_API_URL: `http://127.0.0.1:${port}`,
    HM_BATCH_MAX_WAIT_MS: '10',
    HM_ALERTS: 'off',
  };
  server = await startServerProcess(env);
});
afterAll(() => {
  server.child.kill('SIGKILL');
});

type PrRow = { repo: string; pr: number | null; llm_calls: number; cost_nanos: string | null };
const window = ['-s', '7d', '-u', 'now'];

describe('demo and reports against a running server', () => {
  it('lists every route at start', () => {
    for (const route of ['/v1/traces', '/v1/logs', '/v1/metrics', '/api/v1/reports/', '/metrics'])
      expect(server.output()).toContain(`${server.url}${route}`);
  });

  it('fails loudly, with the reason, when the endpoint takes no spans', async () => {
    const nobody = runCli(
      ['demo', '--endpoint', `http://127.0.0.1:${await freePort()}/v1/traces`],
      env,
    );
    expect(nobody.status).toBe(1);
    expect(nobody.stdout).toBe('');
    expect(nobody.stderr).toMatch(/not accepted by .*no answer/);
    const base = runCli(['demo', '--endpoint', server.url], env);
    expect(base.status).toBe(1);
    expect(base.stderr).toContain('HTTP 404');
    expect(base.stderr).toContain('ends in /v1/traces');
  });

  it('stores the demo once however often it runs, and --reset removes it', () => {
    expect(runCli(['demo'], env).status).toBe(0);
    const first = reportRows<PrRow>(runCli(['report', 'cost-per-pr', '--json'], env).stdout);
    expect(first.reduce((n, r) => n + r.llm_calls, 0)).toBe(21);
    const waste = () =>
      reportRows<{ key: string; occurrences: number }>(
        runCli(['report', 'waste', '--json'], env).stdout,
      );
    expect(waste()).toEqual([expect.objectContaining({ key: 're_read', occurrences: 1 })]);
    // An unpriced PR (all its calls unpriced) is null in JSON, never $0.
    expect(first).toContainEqual(expect.objectContaining({ pr: 202, cost_nanos: null }));

    const again = runCli(['demo'], env);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('running it again stores nothing new');
    const second = reportRows<PrRow>(runCli(['report', 'cost-per-pr', '--json'], env).stdout);
    expect(second).toEqual(first);
    expect(waste()).toEqual([expect.objectContaining({ key: 're_read', occurrences: 1 })]);

    for (let i = 0; i < 2; i++) expect(runCli(['demo', '--spike'], env).status).toBe(0);
    const erin = reportRows<{ key: string; cost_nanos: string }>(
      runCli(['report', 'cost', '--by', 'developer', '--json'], env).stdout,
    ).find((r) => r.key === 'erin');
    expect(erin?.cost_nanos).toBe('14400000000'); // $14.40 once, not $28.80

    const reset = runCli(['demo', '--reset'], env);
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(/demo --reset: \d+ demo span\(s\) removed/);
    const after = runCli(['report', 'cost', '--by', 'developer'], env);
    expect(after.status).toBe(0);
    expect(after.stdout).toContain('(no data in this window)');
    expect(runCli(['demo'], env).status).toBe(0);
  }, 240_000);

  it('prints the same JSON as the HTTP API, which also answers CSV and /metrics', async () => {
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const until = new Date().toISOString();
    const cli = runCli(['report', 'cost-per-pr', '--json', '-s', since, '-u', until], env);
    expect(cli.status).toBe(0);
    const res = await getOnce(
      `${server.url}/api/v1/reports/cost-per-pr?since=${since}&until=${until}`,
    );
    const api: unknown = JSON.parse(res.body);
    expect(JSON.parse(cli.stdout)).toEqual(api);
    expect(api).toMatchObject({ report: 'cost-per-pr', since, until });

    const csv = await getOnce(`${server.url}/api/v1/reports/cost-per-pr?format=csv&since=${since}`);
    expect(csv.type).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toMatch(/^repo,pr,.*,cost_nanos,.*,first_seen,.*,cost_complete$/);
    expect(lines.find((l) => l.includes(',202,'))).toMatch(/,,,2,.*Z,.*Z,.*false$/);

    const metrics = await getOnce(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = metrics.body;
    expect(text).toContain('# TYPE harness_meter_process_cpu_seconds_total counter');
    expect(text).toMatch(/^harness_meter_sink_stored_batches [1-9]/m);
  });

  it('fits tables to COLUMNS, and --wide shows every column', () => {
    const narrow = runCli(['report', 'cost-per-pr', ...window], { ...env, COLUMNS: '120' });
    expect(narrow.status).toBe(0);
    for (const line of narrow.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(narrow.stdout).toMatch(/^total\s+≥\$\d/m);
    const wide = runCli(['report', 'cost-per-pr', '--wide', ...window], { ...env, COLUMNS: '120' });
    expect(wide.stdout).toContain('wasted tok');
    expect(Math.max(...wide.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(120);
  });

  it('answers every report in the shape its JSON Schema documents', async () => {
    let rows = 0;
    for (const name of REPORT_NAMES) {
      const res = await getOnce(`${server.url}/api/v1/reports/${name}?since=7d`);
      expect(res.status, name).toBe(200);
      const body = JSON.parse(res.body) as { rows: unknown[] };
      expect(schemaProblems(name, body), name).toEqual([]);
      rows += body.rows.length;
    }
    expect(rows).toBeGreaterThan(10);
    const printed = runCli(['report', 'waste', '--schema'], env);
    expect(printed.status).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({ title: 'harness-meter report waste' });
    // A row that drifts from the schema is caught.
    expect(
      schemaProblems('unpriced', {
        report: 'unpriced',
        rows: [{ model: 'm', calls: '1', extra: 1 }],
      }),
    ).toEqual(
      expect.arrayContaining([
        'rows[0].extra: not in the schema',
        'rows[0].calls: "1" is not integer',
      ]),
    );
  });
});
