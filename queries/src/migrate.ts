import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName } from './sql.js';

/** One numbered migration: `NNNN_name.up.sql` with its `NNNN_name.down.sql`. */
export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
  checksum: string;
}

export interface MigrationResult {
  applied: { version: number; name: string }[];
  current: number;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;

/** Reads the migrations shipped in `queries/migrations/`, in version order. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of readdirSync(dir).sort()) {
    const m = FILE_RE.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const entry = byVersion.get(version) ?? { name: m[2] ?? '' };
    const text = readFileSync(`${dir}/${file}`, 'utf8');
    if (m[3] === 'up') entry.up = text;
    else entry.down = text;
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, e]) => {
      if (e.up === undefined || e.down === undefined) {
        throw new StoreError(
          'MIGRATION_FAILED',
          `Migration ${version} (${e.name}) needs both an .up.sql and a .down.sql file in ${dir}.`,
        );
      }
      return {
        version,
        name: e.name,
        up: e.up,
        down: e.down,
        checksum: createHash('sha256').update(e.up).digest('hex'),
      };
    });
}

/** Splits a migration file into statements: a statement ends with `;` at the end of a line. */
export function splitStatements(sql: string): string[] {
  return parseStatements(sql).map((s) => s.sql);
}

/**
 * A comment line `-- optional: <why>` inside a statement marks it optional: a store that does not
 * know a setting it names (error UNKNOWN_SETTING, an older ClickHouse server) skips it, and the
 * migration still applies. Only for statements the code works without (it falls back at run time).
 */
const OPTIONAL_RE = /^\s*--\s*optional:/m;

/** The statements of a migration file, each with whether it is optional (see OPTIONAL_RE). */
export function parseStatements(sql: string): { sql: string; optional: boolean }[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => ({ sql: s.replace(/^\s*--.*$/gm, '').trim(), optional: OPTIONAL_RE.test(s) }))
    .filter((s) => s.sql.length > 0);
}

/** Whether an error is ClickHouse's "unknown setting" (code 115). */
const isUnknownSetting = (err: unknown): boolean =>
  /\bUNKNOWN_SETTING\b|Code: 115\b|Unknown setting/i.test(messageOf(err)) ||
  (err as { code?: unknown } | null)?.code === '115';

async function ensureBookkeeping(client: ClickHouseClient, db: string): Promise<void> {
  await client.command({
    query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}',
    query_params: { db },
  });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
      (version UInt32, name String, checksum String, direction Enum8('up' = 1, 'down' = 2), at DateTime64(3, 'UTC'))
      ENGINE = MergeTree ORDER BY (version, at)`,
    query_params: { db },
  });
}

/** The highest migration version currently applied (0 for a fresh database). */
export async function currentVersion(client: ClickHouseClient, db: string): Promise<number> {
  assertDatabaseName(db);
  await ensureBookkeeping(client, db);
  const rs = await client.query({
    query: `SELECT toUInt32(max(version)) AS v FROM (
              SELECT version, argMax(direction, at) AS d FROM {db:Identifier}.schema_migrations GROUP BY version
            ) WHERE d = 'up'`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{ v: number | string }>();
  return Number(rows[0]?.v ?? 0);
}

async function record(
  client: ClickHouseClient,
  db: string,
  m: Migration,
  direction: 'up' | 'down',
): Promise<void> {
  await client.insert({
    table: `${db}.schema_migrations`,
    values: [{ version: m.version, name: m.name, checksum: m.checksum, direction, at: Date.now() }],
    format: 'JSONEachRow',
  });
}

async function run(client: ClickHouseClient, db: string, m: Migration, sql: string): Promise<void> {
  for (const statement of parseStatements(sql)) {
    try {
      await client.command({ query: statement.sql, query_params: { db } });
    } catch (err) {
      if (statement.optional && isUnknownSetting(err)) continue;
      throw new StoreError(
        'MIGRATION_FAILED',
        `Migration ${m.version}_${m.name} failed: ${messageOf(err)}`,
        { cause: err },
      );
    }
  }
}

/**
 * Applies every pending migration in order and records each one. Safe to run at every start:
 * statements are idempotent and applied versions are skipped.
 */
export async function migrateUp(
  client: ClickHouseClient,
  db: string,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrationResult> {
  const from = await currentVersion(client, db);
  const applied: { version: number; name: string }[] = [];
  for (const m of migrations) {
    if (m.version <= from) continue;
    await run(client, db, m, m.up);
    await record(client, db, m, 'up');
    applied.push({ version: m.version, name: m.name });
  }
  return { applied, current: applied.at(-1)?.version ?? from };
}

/** Reverts applied migrations above `toVersion`, newest first. */
export async function migrateDown(
  client: ClickHouseClient,
  db: string,
  toVersion: number,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrationResult> {
  const from = await currentVersion(client, db);
  const applied: { version: number; name: string }[] = [];
  for (const m of [...migrations].reverse()) {
    if (m.version > from || m.version <= toVersion) continue;
    await run(client, db, m, m.down);
    await record(client, db, m, 'down');
    applied.push({ version: m.version, name: m.name });
  }
  return { applied, current: Math.min(from, toVersion) };
}
