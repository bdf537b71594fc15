import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName, queryRows, toClickHouseTime } from './sql.js';

/** What a key may do: send OTLP, read reports, or everything. */
export type ApiKeyRole = 'ingest' | 'read' | 'admin';
export const API_KEY_ROLES: readonly ApiKeyRole[] = ['ingest', 'read', 'admin'];

/** A stored key (the secret itself is never stored: only its SHA-256). */
export interface ApiKeyRow {
  id: string;
  name: string;
  role: ApiKeyRole;
  team: string;
  developer: string;
  secret_sha256: string;
  created_at: string;
  /** null while the key is valid. */
  revoked_at: string | null;
}

/** A key as `keys list` shows it: no hash, plus what it wrote. */
export interface ApiKeyListRow {
  id: string;
  name: string;
  role: ApiKeyRole;
  team: string;
  developer: string;
  created_at: string;
  revoked_at: string | null;
  /** Spans stored with this key's id (span deliveries, duplicates counted once after merges). */
  spans: number;
  last_span_at: string | null;
}

function run<T>(
  client: ClickHouseClient,
  db: string,
  what: string,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  assertDatabaseName(db);
  return queryRows<T>(
    client,
    query,
    { db, ...params },
    `harness-meter:keys:${what}`,
    `Reading API keys (${what})`,
  );
}

const KEY_COLUMNS = `id, name, role, team, developer, secret_sha256,
  toString(created_at) AS created_at, if(isNull(revoked_at), NULL, toString(revoked_at)) AS revoked_at`;

/** Every key, revoked ones included, current state only. */
export function loadApiKeys(client: ClickHouseClient, db: string): Promise<ApiKeyRow[]> {
  return run<ApiKeyRow>(
    client,
    db,
    'load',
    `SELECT ${KEY_COLUMNS} FROM {db:Identifier}.api_keys FINAL ORDER BY created_at, id`,
  );
}

async function insertKeyRow(client: ClickHouseClient, db: string, row: ApiKeyRow): Promise<void> {
  assertDatabaseName(db);
  try {
    await client.insert({
      table: `${db}.api_keys`,
      values: [{ ...row, version: Date.now() }],
      format: 'JSONEachRow',
      clickhouse_settings: { log_comment: 'harness-meter:keys:write' },
    });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Storing an API key failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

/** Stores a new key (its hash only). */
export function insertApiKey(client: ClickHouseClient, db: string, row: ApiKeyRow): Promise<void> {
  return insertKeyRow(client, db, row);
}

/** Revokes a key; returns it as it now stands, or undefined when no key has this id. */
export async function revokeApiKey(
  client: ClickHouseClient,
  db: string,
  id: string,
  at: Date = new Date(),
): Promise<ApiKeyRow | undefined> {
  const [row] = await run<ApiKeyRow>(
    client,
    db,
    'find',
    `SELECT ${KEY_COLUMNS} FROM {db:Identifier}.api_keys FINAL WHERE id = {id:String}`,
    { id },
  );
  if (!row) return undefined;
  if (row.revoked_at !== null) return row;
  const revoked = { ...row, revoked_at: toClickHouseTime(at) };
  await insertKeyRow(client, db, revoked);
  return revoked;
}

/** The keys with what each wrote (spans.key_id), for `keys list` and GET /api/v1/keys. */
export async function listApiKeys(client: ClickHouseClient, db: string): Promise<ApiKeyListRow[]> {
  const rows = await run<Omit<ApiKeyListRow, 'spans'> & { spans: string | number }>(
    client,
    db,
    'list',
    `SELECT k.id AS id, k.name AS name, k.role AS role, k.team AS team, k.developer AS developer,
       toString(k.created_at) AS created_at,
       if(isNull(k.revoked_at), NULL, toString(k.revoked_at)) AS revoked_at,
       ifNull(s.spans, 0) AS spans,
       if(s.spans > 0, toString(s.last_span_at), NULL) AS last_span_at
     FROM (SELECT * FROM {db:Identifier}.api_keys FINAL) AS k
     LEFT JOIN (
       SELECT key_id, count() AS spans, max(Timestamp) AS last_span_at
       FROM {db:Identifier}.spans WHERE key_id != '' GROUP BY key_id
     ) AS s ON s.key_id = k.id
     ORDER BY k.created_at, k.id
     SETTINGS join_use_nulls = 1`,
  );
  return rows.map((r) => ({ ...r, spans: Number(r.spans) }));
}
