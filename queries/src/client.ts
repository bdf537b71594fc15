import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, parseError, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { settingsPerCall } from './chdb-settings.js';
import { DataFolderLockedError, StoreError, messageOf } from './errors.js';
import { folderLock } from './lock.js';

export type { ClickHouseClient } from '@clickhouse/client';
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** Where reports and the sink read and write. */
export type StoreOptions =
  | {
      kind: 'chdb';
      dataDir: string;
      /** How long to wait for another process to release the folder (servers restarting); default 0. */
      waitForLockMs?: number;
    }
  | { kind: 'server'; url: string; username?: string; password?: string };

/** The chDB connection under a client openStore opened on a data folder. */
const chdbConnections = new WeakMap<ClickHouseClient, ReturnType<typeof createChdbConnection>>();

/** Rows for insertCompactRows: positional values in the order of `columns`. */
export interface CompactInsert {
  /** `db.table` */
  table: string;
  columns: readonly string[];
  rows: readonly (readonly unknown[])[];
  clickhouse_settings?: Record<string, string | number>;
}

/**
 * Inserts rows as JSONCompactEachRow. On a ClickHouse server through the client; on chDB the
 * payload is serialized here once and handed to chDB's raw insert as one buffer (parsed by its
 * parallel parser), which skips the client's per-row stream and the copy of the payload into the
 * SQL text: about twice as fast for large batches. Errors have the client's shape either way
 * (ClickHouseError with `code` and `type`).
 */
export async function insertCompactRows(
  client: ClickHouseClient,
  insert: CompactInsert,
): Promise<void> {
  if (insert.rows.length === 0) return;
  const chdb = chdbConnections.get(client);
  if (chdb === undefined) {
    await client.insert({
      table: insert.table,
      columns: insert.columns as [string, ...string[]],
      values: insert.rows as unknown[][],
      format: 'JSONCompactEachRow',
      ...(insert.clickhouse_settings ? { clickhouse_settings: insert.clickhouse_settings } : {}),
    });
    return;
  }
  await rawCompactInsert(
    chdb,
    insert,
    compactRowsBytes(insert.rows, (row) => row),
  );
}

/**
 * JSONCompactEachRow as UTF-8 bytes: `firstLine` as it is, then `JSON.stringify(toValues(item))`
 * and '\n' per item, the same bytes as `Buffer.from(text)` of those lines concatenated. Each line
 * is written into one buffer as soon as it is made: building the whole text first makes a string
 * of ropes that is flattened (copied) again before encoding, which measured about a fifth of the
 * receiver's per-span serialization.
 */
export function compactRowsBytes<T>(
  items: readonly T[],
  toValues: (item: T) => readonly unknown[],
  firstLine = '',
): Buffer {
  // Sized on the first rows; at most 3 UTF-8 bytes per UTF-16 code unit, checked per line.
  let buf = Buffer.allocUnsafe(Math.max(4096, firstLine.length * 3 + items.length * 1024));
  let at = firstLine === '' ? 0 : buf.write(firstLine, 0, 'utf8');
  for (const item of items) {
    const line = JSON.stringify(toValues(item));
    const need = at + line.length * 3 + 1;
    if (need > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
      buf.copy(grown, 0, 0, at);
      buf = grown;
    }
    at += buf.write(line, at, 'utf8');
    buf[at++] = 10;
  }
  // A large spare tail would stay allocated as long as the caller keeps the bytes.
  return at < buf.length * 0.75 ? Buffer.from(buf.subarray(0, at)) : buf.subarray(0, at);
}

/** JSONCompactEachRow text already serialized: one row per line, each line ending in '\n'. */
export interface CompactTextInsert {
  /** `db.table` */
  table: string;
  columns: readonly string[];
  /** Rows as JSON arrays, one per line (UTF-8 when bytes), in the order of `columns`. */
  text: string | Uint8Array;
  clickhouse_settings?: Record<string, string | number>;
}

/**
 * Inserts rows serialized beforehand (e.g. kept in a write-ahead log) as JSONCompactEachRow: on
 * chDB the text goes to the raw insert as it is; on a server the lines are parsed back to values.
 */
export async function insertCompactText(
  client: ClickHouseClient,
  insert: CompactTextInsert,
): Promise<void> {
  if (insert.text.length === 0) return;
  const chdb = chdbConnections.get(client);
  if (chdb === undefined) {
    const text =
      typeof insert.text === 'string' ? insert.text : Buffer.from(insert.text).toString('utf8');
    const rows = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown[]);
    await insertCompactRows(client, { ...insert, rows });
    return;
  }
  await rawCompactInsert(chdb, insert, insert.text);
}

async function rawCompactInsert(
  chdb: ReturnType<typeof createChdbConnection>,
  insert: {
    table: string;
    columns: readonly string[];
    clickhouse_settings?: Record<string, string | number>;
  },
  body: string | Uint8Array,
): Promise<void> {
  try {
    await chdb.chdb.rawInsert({
      table: insert.table,
      columns: insert.columns,
      values: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      format: 'JSONCompactEachRow',
      settings: { ...COMMON_SETTINGS, ...insert.clickhouse_settings },
    });
  } catch (err) {
    const mapped = parseError(messageOf(err));
    if (mapped !== err) (mapped as { cause?: unknown }).cause = err;
    throw mapped;
  }
}

/** Settings every connection uses, so chDB and a server return the same JSON shapes. */
const COMMON_SETTINGS = {
  // 64-bit integers as JSON strings: nano-USD sums must not pass through a float.
  output_format_json_quote_64bit_integers: 1,
  date_time_input_format: 'best_effort',
} as const;

/**
 * Opens the ClickHouse client: chDB in-process on a data folder (the embedded default),
 * or a ClickHouse server by URL. The same SQL runs on both.
 *
 * @example
 * const client = await openStore({ kind: 'chdb', dataDir: './.harness-meter' });
 */
export async function openStore(options: StoreOptions): Promise<ClickHouseClient> {
  if (options.kind === 'server') {
    const client = createClient({
      url: options.url,
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      clickhouse_settings: COMMON_SETTINGS,
    });
    try {
      const ping = await client.ping();
      if (!ping.success) throw ping.error;
    } catch (err) {
      await client.close();
      throw new StoreError(
        'STORE_UNAVAILABLE',
        `Cannot reach ClickHouse at ${options.url}. Check HM_CLICKHOUSE_URL and that the server is up.`,
        { retriable: true, cause: err },
      );
    }
    return client;
  }
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  // Checked first: chDB itself would print the native lock error on stderr before failing.
  let lock = folderLock(dataDir);
  const deadline = Date.now() + (options.waitForLockMs ?? 0);
  while (lock.locked && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    lock = folderLock(dataDir);
  }
  if (lock.locked) throw new DataFolderLockedError(dataDir, undefined, lock.pid);
  let client: ClickHouseClient;
  try {
    const connection = createChdbConnection({ path: dataDir });
    settingsPerCall(connection, COMMON_SETTINGS);
    client = createClient({
      // chdb/connection implements @clickhouse/client-common's Connection; @clickhouse/client bundles
      // its own copy of the same declarations, which TypeScript sees as distinct types.
      connection: connection as unknown as ClientConnection,
      clickhouse_settings: COMMON_SETTINGS,
    });
    chdbConnections.set(client, connection);
    await client.command({ query: 'SELECT 1' });
  } catch (err) {
    if (isLockError(err) || folderLock(dataDir).locked)
      throw new DataFolderLockedError(dataDir, err, folderLock(dataDir).pid);
    throw new StoreError(
      'STORE_UNAVAILABLE',
      `Cannot open the chDB data folder ${dataDir}: ${messageOf(err)}`,
      {
        cause: err,
      },
    );
  }
  return client;
}

function isLockError(err: unknown): boolean {
  for (
    let e: unknown = err, depth = 0;
    e !== undefined && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    if (/Cannot lock file|already running/i.test(messageOf(e))) return true;
    if (!(e instanceof Error)) break;
  }
  return false;
}

/** Whether openStore opened this client on a chDB data folder (not a ClickHouse server). */
export const isChdbStore = (client: ClickHouseClient): boolean => chdbConnections.has(client);
