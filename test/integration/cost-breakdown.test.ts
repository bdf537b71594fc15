import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costBy, migrateUp, type ClickHouseClient, type CostByRow } from '@harness-meter/queries';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { reportApi } from '../../pipeline/src/report/service.js';
import { schemaProblems } from '../../pipeline/src/report/schema.js';
import { freePort, runCli } from '../helpers/cli.js';
import { openTempStore } from '../helpers/store.js';
import { pricedSpan } from '../helpers/spans.js';

const DB = 'hm_breakdown_test';
let client: ClickHouseClient;
let dataDir: string;
let closed = false;
const window = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;

beforeAll(async () => {
  ({ client, dataDir } = await openTempStore('breakdown'));
  await migrateUp(client, DB);
  const llm = (
    day: string,
    session: string,
    model: string,
    costNanos: bigint | null,
    tokens: number,
  ) =>
    pricedSpan({
      startTimeUnixNano: at(`${day}T10:00:00Z`),
      developer: session.startsWith('a') ? 'ana' : 'bo',
      sessionId: session,
      spanType: 'llm',
      provider: 'anthropic',
      requestModel: model,
      responseModel: model,
      inputTokens: tokens,
      outputTokens: tokens / 10,
      cacheReadTokens: 7,
      costNanos,
      priceId: costNanos === null ? '' : 'p1',
      unpriced: costNanos === null,
    });
  const sink = createSpanSink(client, { db: DB, maxSpans: 100, maxWaitMs: 20 });
  await sink.write([
    llm('2026-11-20', 'a1', 'claude-sonnet-4-5', 2_000_000_001n, 100),
    llm('2026-11-20', 'a1', 'claude-haiku-4-5', 300_000_000n, 50),
    llm('2026-11-20', 'b1', 'claude-sonnet-4-5', 1_000_000_000n, 200),
    llm('2026-11-21', 'b2', 'claude-haiku-4-5', 5n, 30),
    llm('2026-11-21', 'b2', 'mystery-model', null, 1000),
    pricedSpan({
      startTimeUnixNano: at('2026-11-21T11:00:00Z'),
      sessionId: 'b2',
      spanType: 'tool',
      toolName: 'Read',
      resultTokens: 42,
    }),
  ]);
  await sink.close();
});
afterAll(async () => {
  if (!closed) await client.close();
});

const SUMMED = [
  'llm_calls',
  'tool_calls',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'unpriced_calls',
] as const;

function expectModelsSumToRow(row: CostByRow): void {
  const models = row.models ?? [];
  expect(models.length).toBeGreaterThan(0);
  for (const f of SUMMED)
    expect(
      models.reduce((n, m) => n + m[f], 0),
      `${row.key} ${f}`,
    ).toBe(row[f]);
  expect(models.reduce((n, m) => n + BigInt(m.cost_nanos), 0n).toString()).toBe(row.cost_nanos);
}

describe('cost --breakdown model (real ClickHouse engine via chDB)', () => {
  it('gives each day its per-model rows, which add up to the day', async () => {
    const plain = await costBy(client, { db: DB, by: 'day', ...window });
    const rows = await costBy(client, { db: DB, by: 'day', breakdown: 'model', ...window });
    // The parent rows are the plain report's rows, in the same order.
    expect(rows.map(({ models: _m, ...r }) => r)).toEqual(plain);
    expect(rows.map((r) => r.key)).toEqual(['2026-11-20', '2026-11-21']);
    for (const row of rows) expectModelsSumToRow(row);
    const day1 = rows[0]?.models ?? [];
    expect(day1.map((m) => [m.model, m.llm_calls, m.cost_nanos, m.sessions])).toEqual([
      ['claude-sonnet-4-5', 2, '3000000001', 2],
      ['claude-haiku-4-5', 1, '300000000', 1],
    ]);
    // Tool calls carry no model: their row is model ''; the unpriced model keeps its count.
    const day2 = rows[1]?.models ?? [];
    expect(day2.find((m) => m.model === '')).toMatchObject({ tool_calls: 1, llm_calls: 0 });
    expect(day2.find((m) => m.model === 'mystery-model')).toMatchObject({ unpriced_calls: 1 });
  });

  it('adds up under every dimension', async () => {
    for (const by of ['developer', 'session', 'model'] as const) {
      const rows = await costBy(client, { db: DB, by, breakdown: 'model', ...window });
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expectModelsSumToRow(row);
    }
  });

  it('is served by GET /api/v1/reports/cost?by=day&breakdown=model, valid against its schema', async () => {
    const api = reportApi(client, DB);
    const handler = api['reports/cost'];
    if (!handler) throw new Error('no reports/cost route');
    const q = (s: string): URLSearchParams =>
      new URLSearchParams(
        `since=${window.since.toISOString()}&until=${window.until.toISOString()}&${s}`,
      );
    const body = (await handler(q('by=day&breakdown=model'))) as {
      rows: { key: string; models?: { model: string; cost_nanos: string | null }[] }[];
    };
    expect(schemaProblems('cost', body)).toEqual([]);
    expect(body.rows[1]?.models?.find((m) => m.model === 'mystery-model')?.cost_nanos).toBeNull();
    const plain = (await handler(q('by=day'))) as { rows: Record<string, unknown>[] };
    expect(plain.rows.every((r) => !('models' in r))).toBe(true);
    expect(schemaProblems('cost', plain)).toEqual([]);
    await expect(handler(q('by=day&breakdown=provider'))).rejects.toThrow(/breakdown.*model/);
    const waste = api['reports/waste'];
    await expect(waste?.(q('breakdown=model'))).rejects.toThrow(/cost report only/);
  });

  it('is on the CLI as report cost --breakdown: indented table rows, models in --json', async () => {
    // chDB allows one process per folder: hand it to the CLI (no server answers at HM_API_URL).
    await client.close();
    closed = true;
    const env = {
      HM_DATA_DIR: dataDir,
      HM_CLICKHOUSE_DATABASE: DB,
      HM_API_URL: `http://127.0.0.1:${await freePort()}`,
      COLUMNS: '200',
    };
    const win = ['-s', '20261101', '-u', '20261201'];
    const json = runCli(['report', 'cost', '--by', 'day', '--breakdown', '--json', ...win], env);
    expect(json.stderr).toBe('');
    const body = JSON.parse(json.stdout) as {
      rows: { key: string; models: { model: string }[] }[];
    };
    expect(schemaProblems('cost', body)).toEqual([]);
    expect(body.rows.map((r) => [r.key, r.models.length])).toEqual([
      ['2026-11-20', 2],
      ['2026-11-21', 3],
    ]);
    const table = runCli(['report', 'cost', '--by', 'day', '--breakdown', ...win], env);
    const lines = table.stdout.split('\n');
    const day1 = lines.findIndex((l) => l.startsWith('2026-11-20'));
    expect(lines[day1 + 1]).toMatch(/^ {2}└ claude-sonnet-4-5\s+\$3\.0000\s+2\b/);
    expect(lines[day1 + 2]).toMatch(/^ {2}└ claude-haiku-4-5\s+\$0\.3000\s+1\b/);
    const waste = runCli(['report', 'waste', '--breakdown', ...win], env);
    expect(waste.status).toBe(2);
    expect(waste.stderr).toMatch(/--breakdown/);
  }, 60_000);
});
