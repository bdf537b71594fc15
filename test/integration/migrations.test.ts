import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('skip an optional statement only when the store does not know the setting it names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-migrations-optional-'));
    const file = (name: string, up: string, down = 'SELECT 1;') => {
      writeFileSync(join(dir, `${name}.up.sql`), up);
      writeFileSync(join(dir, `${name}.down.sql`), down);
    };
    const db = 'hm_migrations_optional';
    try {
      file(
        '0001_base',
        'CREATE DATABASE IF NOT EXISTS {db:Identifier};\n' +
          'CREATE TABLE IF NOT EXISTS {db:Identifier}.t (a UInt8) ENGINE = MergeTree ORDER BY a;\n',
      );
      file(
        '0002_newer_server',
        '-- optional: only newer servers know this setting\n' +
          'ALTER TABLE {db:Identifier}.t MODIFY SETTING hm_no_such_setting = 1;\n' +
          'CREATE TABLE IF NOT EXISTS {db:Identifier}.u (a UInt8) ENGINE = MergeTree ORDER BY a;\n',
      );
      const two = await migrateUp(client, db, loadMigrations(dir));
      expect(two.current).toBe(2);
      const rs = await client.query({
        query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
        query_params: { db },
        format: 'JSONEachRow',
      });
      expect((await rs.json<{ name: string }>()).map((r) => r.name)).toEqual([
        'schema_migrations',
        't',
        'u',
      ]);
      // The same statement without the marker fails the migration, with its name in the message.
      file(
        '0003_required',
        'ALTER TABLE {db:Identifier}.t MODIFY SETTING hm_no_such_setting = 1;\n',
      );
      const refused = await migrateUp(client, db, loadMigrations(dir)).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'MIGRATION_FAILED' });
      expect(String(refused)).toContain('3_required');
      rmSync(join(dir, '0003_required.up.sql'));
      rmSync(join(dir, '0003_required.down.sql'));
      // An optional statement that fails for another reason (a missing table) still fails.
      file(
        '0004_other_error',
        '-- optional: only newer servers know this setting\n' +
          'ALTER TABLE {db:Identifier}.missing MODIFY SETTING index_granularity_bytes = 1;\n',
      );
      await expect(migrateUp(client, db, loadMigrations(dir))).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
      });
      expect(await currentVersion(client, db)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
