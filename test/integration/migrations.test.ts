import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentVersion,
  loadMigrations,
  migrateDown,
  migrateUp,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { openTempStore } from '../helpers/store.js';

const DB = 'hm_migrations_test';
let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('migrations'));
});
afterAll(async () => {
  await client.close();
});

async function tables(): Promise<string[]> {
  const rs = await client.query({
    query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
    query_params: { db: DB },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ name: string }>()).map((r) => r.name);
}

describe('migrations (real ClickHouse engine via chDB)', () => {
  it('apply in order, are recorded, and a second run does nothing', async () => {
    const all = loadMigrations();
    expect(all.map((m) => m.version)).toEqual([...all.map((m) => m.version)].sort((a, b) => a - b));
    const first = await migrateUp(client, DB);
    expect(first.applied.map((m) => m.version)).toEqual(all.map((m) => m.version));
    expect(await tables()).toEqual(
      expect.arrayContaining([
        'schema_migrations',
        'spans',
        'usage_by_minute',
        'usage_by_minute_mv',
      ]),
    );
    const second = await migrateUp(client, DB);
    expect(second.applied).toEqual([]);
    expect(second.current).toBe(all.at(-1)?.version);
  });

  it('revert with the down files and re-apply', async () => {
    const later = loadMigrations()
      .map((m) => m.version)
      .filter((v) => v > 1);
    expect(later.length).toBeGreaterThanOrEqual(4);
    const down = await migrateDown(client, DB, 1);
    expect(down.applied.map((m) => m.version)).toEqual([...later].reverse());
    expect(await currentVersion(client, DB)).toBe(1);
    expect(await tables()).not.toContain('usage_by_minute');
    expect(await tables()).toContain('spans');
    const up = await migrateUp(client, DB);
    expect(up.applied.map((m) => m.version)).toEqual(later);
    expect(await tables()).toEqual(
      expect.arrayContaining(['usage_by_minute_mv', 'waste_findings', 'session_scans']),
    );
  });

  it('0006 backfills the hourly link rollup from stored spans, then its view keeps it current', async () => {
    await migrateDown(client, DB, 5);
    const insert = (id: string, at: string, cost: number) =>
      client.command({
        query: `INSERT INTO ${DB}.spans (Timestamp, TraceId, SpanId, span_type, repo, branch, session_id, cost_nanos)
                VALUES ('${at}', 't', '${id}', 'llm', 'git@github.com:Acme/API.git', 'feat/a', 's1', ${cost})`,
      });
    await insert('a', '2026-11-10 10:05:00', 700);
    await insert('b', '2026-11-10 10:50:00', 300);
    await migrateUp(client, DB);
    await insert('c', '2026-11-10 11:01:00', 5);
    const rs = await client.query({
      query: `SELECT toString(hour) AS hour, repo_key, branch, sum(llm_calls) AS calls, toString(sum(cost_nanos)) AS cost
              FROM ${DB}.usage_by_link_hour GROUP BY hour, repo_key, branch ORDER BY hour`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      {
        hour: '2026-11-10 10:00:00',
        repo_key: 'acme/api',
        branch: 'feat/a',
        calls: '2',
        cost: '1000',
      },
      {
        hour: '2026-11-10 11:00:00',
        repo_key: 'acme/api',
        branch: 'feat/a',
        calls: '1',
        cost: '5',
      },
    ]);
  });

  it('refuses a database name that is not a plain identifier', async () => {
    await expect(migrateUp(client, 'bad-name; DROP')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
