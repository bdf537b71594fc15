import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf, unescapeTsvField } from '@harness-meter/queries';
import type { Logger } from '../logger.js';
import { createKeyFilter, KEY_FILTER_DEFAULT_BITS, type KeyFilter } from './key-filter.js';
import { spanKey } from './rows.js';

/** What identifies a stored span. */
export interface SpanRef {
  traceId: string;
  spanId: string;
}

/** Which spans are stored already: the existence read, narrowed by the key filter when it is on. */
export interface StoredKeys {
  /** Keys (`spanKey`) of `unique` already in the spans table. */
  storedKeys(unique: readonly SpanRef[]): Promise<Set<string>>;
  /** Records spans as (maybe) stored, once an insert of them was attempted. */
  remember(spans: readonly SpanRef[]): void;
  /**
   * Stops seeding the filter at its next page; with `savedFilter`, saves a complete filter beside
   * the store so the next start does not seed again.
   */
  close(): Promise<void>;
}

export const DEDUP_DEFAULTS = {
  /** Stored keys read per query while seeding the key filter. */
  seedPage: 200_000,
  /** Keys per existence query (they travel as a query parameter). */
  existenceChunk: 1000,
} as const;

export interface StoredKeysOptions {
  db: string;
  /** See SpanSinkOptions.keyFilter. */
  keyFilter?: boolean | { bits?: number } | undefined;
  onKeyFilterSeeded?: ((keys: number) => void) | undefined;
  /**
   * A file where a clean stop saves the key filter (with the store's active parts of `spans`); the
   * next start loads it instead of seeding when those parts are still the same, i.e. nothing was
   * written or merged since. Read once and deleted, so a crash never reuses it. @default unset
   */
  savedFilter?: string | undefined;
  logger: Logger;
}

/**
 * The sink's duplicate check. With the key filter on, the filter is seeded from the stored keys in
 * the background, a page at a time; until it is complete every key is looked up.
 */
export function createStoredKeys(client: ClickHouseClient, options: StoredKeysOptions): StoredKeys {
  const { db, logger: log } = options;
  let closed = false;
  const filter = startKeyFilter();

  /** The key filter, seeded in the background; `ready` turns true once every stored key is in it. */
  function startKeyFilter(): { keys: KeyFilter; ready: boolean } | undefined {
    if (!options.keyFilter) return undefined;
    const bits =
      typeof options.keyFilter === 'object'
        ? (options.keyFilter.bits ?? KEY_FILTER_DEFAULT_BITS)
        : KEY_FILTER_DEFAULT_BITS;
    const state = { keys: createKeyFilter(bits), ready: false };
    void loadOrSeed(state.keys).then(
      (n) => {
        state.ready = true;
        log.debug('sink key filter seeded', { keys: n });
        options.onKeyFilterSeeded?.(n);
      },
      (err: unknown) =>
        log.warn('sink key filter not seeded: every batch is looked up in the store', {
          error: messageOf(err),
        }),
    );
    return state;
  }

  /** The saved filter when it still matches the store, else a seed from the stored keys. */
  async function loadOrSeed(keys: KeyFilter): Promise<number> {
    const file = options.savedFilter;
    if (file !== undefined) {
      const n = await loadSavedFilter(client, db, file, keys, log).catch((err: unknown) => {
        log.warn('saved key filter not used', { file, error: messageOf(err) });
        return undefined;
      });
      if (n !== undefined) {
        log.info('sink key filter loaded from the last clean stop', { keys: n });
        return n;
      }
    }
    return seedKeyFilter(keys);
  }

  /**
   * Adds every stored key, in primary-key order, a page at a time (memory stays bounded). Pages come
   * as TabSeparated text scanned in place: a JSON parse of the same page cost about 3× the whole seed.
   */
  async function seedKeyFilter(keys: KeyFilter): Promise<number> {
    let after: [string, string] = ['', ''];
    let n = 0;
    for (;;) {
      const rs = await client.query({
        query: `SELECT TraceId, SpanId FROM {db:Identifier}.spans
                WHERE (TraceId, SpanId) > ({t:String}, {s:String})
                ORDER BY TraceId, SpanId LIMIT {n:UInt32}`,
        query_params: { db, t: after[0], s: after[1], n: DEDUP_DEFAULTS.seedPage },
        format: 'TabSeparated',
        clickhouse_settings: { log_comment: 'harness-meter sink key filter seed' },
      });
      const page = addKeyPage(await rs.text(), keys);
      n += page.rows;
      if (page.rows < DEDUP_DEFAULTS.seedPage || closed || page.last === undefined) return n;
      after = page.last;
    }
  }

  async function existingKeys(spans: readonly SpanRef[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < spans.length; i += DEDUP_DEFAULTS.existenceChunk) {
      const chunk = spans.slice(i, i + DEDUP_DEFAULTS.existenceChunk);
      const rs = await client.query({
        query: `SELECT concat(TraceId, ':', SpanId) AS k FROM {db:Identifier}.spans
                WHERE TraceId IN {traces:Array(String)} AND concat(TraceId, ':', SpanId) IN {keys:Array(String)}`,
        query_params: {
          db,
          traces: [...new Set(chunk.map((s) => s.traceId))],
          keys: chunk.map(spanKey),
        },
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink dedup' },
      });
      for (const row of await rs.json<{ k: string }>()) found.add(row.k);
    }
    return found;
  }

  return {
    async storedKeys(unique) {
      if (unique.length === 0) return new Set<string>();
      if (filter === undefined || !filter.ready) return existingKeys(unique);
      const maybe = unique.filter((s) => filter.keys.mightHaveRef(s.traceId, s.spanId));
      return maybe.length > 0 ? existingKeys(maybe) : new Set<string>();
    },
    remember(spans) {
      if (filter !== undefined) for (const s of spans) filter.keys.addRef(s.traceId, s.spanId);
    },
    async close() {
      closed = true;
      if (filter?.ready && options.savedFilter !== undefined)
        await saveFilter(client, db, options.savedFilter, filter.keys).catch((err: unknown) =>
          log.warn('saving the key filter failed; the next start seeds it from the store', {
            error: messageOf(err),
          }),
        );
    },
  };
}

/** What identifies the stored spans at a moment: their active parts (immutable; any write or merge
 * makes new ones) and row count. */
async function spansFingerprint(client: ClickHouseClient, db: string): Promise<string> {
  const rs = await client.query({
    query: `SELECT name, rows FROM system.parts
            WHERE database = {db:String} AND table = 'spans' AND active ORDER BY name`,
    query_params: { db },
    format: 'JSONCompactEachRow',
    clickhouse_settings: { log_comment: 'harness-meter sink key filter fingerprint' },
  });
  const parts = await rs.json<[string, string]>();
  return createHash('sha256')
    .update(JSON.stringify([db, parts]))
    .digest('hex');
}

/** File: one JSON header line ({ fingerprint, keys, bytes }), then the filter's bits. */
async function saveFilter(
  client: ClickHouseClient,
  db: string,
  file: string,
  keys: KeyFilter,
): Promise<void> {
  const bits = keys.bytes();
  const header = JSON.stringify({
    fingerprint: await spansFingerprint(client, db),
    keys: keys.size,
    bytes: bits.byteLength,
  });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, Buffer.concat([Buffer.from(`${header}\n`), bits]));
  await rename(tmp, file);
}

/** Adds a saved filter to `keys` if the store is as it was saved; deletes the file either way. */
async function loadSavedFilter(
  client: ClickHouseClient,
  db: string,
  file: string,
  keys: KeyFilter,
  log: Logger,
): Promise<number | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
  await rm(file, { force: true });
  const nl = buf.indexOf(10);
  const header = JSON.parse(buf.toString('utf8', 0, nl)) as {
    fingerprint?: unknown;
    keys?: unknown;
    bytes?: unknown;
  };
  const bits = buf.subarray(nl + 1);
  if (header.bytes !== bits.length || typeof header.keys !== 'number') return undefined;
  if (header.fingerprint !== (await spansFingerprint(client, db))) {
    log.info('saved key filter is stale (spans written or merged since): seeding it again');
    return undefined;
  }
  if (!keys.absorb(bits, header.keys)) return undefined;
  return header.keys;
}

/**
 * Adds the keys of a TabSeparated page of `TraceId\tSpanId` lines to `keys`; returns the row count
 * and the last key (the next page starts after it). Ids are hex, so no line needs unescaping; one
 * that does (an id with a tab, newline or backslash, stored before ids were checked) is unescaped.
 */
export function addKeyPage(
  text: string,
  keys: Pick<KeyFilter, 'addRef'>,
): { rows: number; last: [string, string] | undefined } {
  let rows = 0;
  let last: [string, string] | undefined;
  let at = 0;
  while (at < text.length) {
    const tab = text.indexOf('\t', at);
    let end = text.indexOf('\n', tab + 1);
    if (tab < 0) throw new Error(`key filter seed: a line without a tab at offset ${at}`);
    if (end < 0) end = text.length;
    let traceId = text.slice(at, tab);
    let spanId = text.slice(tab + 1, end);
    if (traceId.includes('\\')) traceId = unescapeTsvField(traceId) ?? '';
    if (spanId.includes('\\')) spanId = unescapeTsvField(spanId) ?? '';
    keys.addRef(traceId, spanId);
    rows++;
    if (end + 1 >= text.length) last = [traceId, spanId];
    at = end + 1;
  }
  return { rows, last };
}
