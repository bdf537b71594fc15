import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf, unescapeTsvField } from '@harness-meter/queries';
import type { Logger } from '../logger.js';
import {
  createKeyFilter,
  KEY_FILTER_DEFAULT_BITS,
  KEY_FILTER_HASH,
  KEY_FILTER_HASHES,
  keyFilterBitsSql,
  type KeyFilter,
} from './key-filter.js';
import { spanKey } from './rows.js';

/** What identifies a stored span. */
export interface SpanRef {
  traceId: string;
  spanId: string;
}

/** Which spans are stored already: the existence read, narrowed by the key filter when it is on. */
export interface StoredKeys {
  /**
   * Keys (`spanKey`) of `unique` already in the spans table. The keys it answers "not stored" enter
   * the key filter at once, before the caller inserts them: a save then holds every key of every
   * block up to the newest it read, and a retry after a failed insert (which may have stored them)
   * looks them up (a "maybe" costs a read, never a double count).
   */
  storedKeys(unique: readonly SpanRef[]): Promise<Set<string>>;
  /**
   * Stops the saves (a seed still running is not used); with `savedFilter`, saves a complete
   * filter beside the store so the next start does not seed again.
   */
  close(): Promise<void>;
}

export const DEDUP_DEFAULTS = {
  /** Stored keys read per query when a seed reads keys into Node (few keys to seed). */
  seedPage: 200_000,
  /** Keys per existence query (they travel as a query parameter). */
  existenceChunk: 1000,
  /**
   * With `savedFilter`: the filter is saved this often while keys are added (not only at a clean
   * stop), so a start after a crash seeds only the spans written (or merged) since the last save.
   */
  saveEveryMs: 60_000,
} as const;

export interface StoredKeysOptions {
  db: string;
  /** See SpanSinkOptions.keyFilter. */
  keyFilter?: boolean | { bits?: number } | undefined;
  onKeyFilterSeeded?: ((keys: number) => void) | undefined;
  /**
   * A file where the key filter is saved every `saveEveryMs` and at a clean stop, with the highest
   * block number of `spans` at that moment. The next start, after a clean stop or a crash, loads it
   * and seeds only the spans of parts holding a newer block (written, or merged with newer ones,
   * since the save). @default unset
   */
  savedFilter?: string | undefined;
  /** @default DEDUP_DEFAULTS.saveEveryMs */
  saveEveryMs?: number | undefined;
  logger: Logger;
}

/**
 * The sink's duplicate check. With the key filter on, the filter is loaded from its last save and
 * seeded in the background from the spans stored since (all of them without a save), in one
 * aggregation in the store; until that is done every key is looked up.
 */
export function createStoredKeys(client: ClickHouseClient, options: StoredKeysOptions): StoredKeys {
  const { db, logger: log } = options;
  let closed = false;
  const filter = startKeyFilter();
  /** Saves in order (the timer's and the clean stop's), never two at once. */
  let saving: Promise<void> = Promise.resolve();
  let keysAtSave = -1;
  const saveTimer =
    filter !== undefined && options.savedFilter !== undefined
      ? setInterval(() => void save(), options.saveEveryMs ?? DEDUP_DEFAULTS.saveEveryMs)
      : undefined;
  saveTimer?.unref();

  /** The key filter, seeded in the background; `ready` turns true once every stored key is in it. */
  function startKeyFilter(): SeedingFilter | undefined {
    if (!options.keyFilter) return undefined;
    const bits =
      typeof options.keyFilter === 'object'
        ? (options.keyFilter.bits ?? KEY_FILTER_DEFAULT_BITS)
        : KEY_FILTER_DEFAULT_BITS;
    const state: SeedingFilter = { keys: createKeyFilter(bits), ready: false };
    void loadOrSeed(state).then(
      (n) => {
        if (closed) return; // stopped meanwhile: not saved
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

  /** The saved filter and the spans stored since it was saved, else a seed from every stored key. */
  async function loadOrSeed(state: SeedingFilter): Promise<number> {
    const file = options.savedFilter;
    if (file !== undefined) {
      const saved = await loadSavedFilter(client, db, file, state.keys, log).catch(
        (err: unknown) => {
          log.warn('saved key filter not used', { file, error: messageOf(err) });
          return undefined;
        },
      );
      if (saved !== undefined) {
        const newer =
          saved.newerThan < saved.maxBlock ? await seedKeyFilter(state, saved.newerThan) : 0;
        log.info('sink key filter loaded from its last save', { keys: saved.keys, newer });
        return saved.keys + newer;
      }
    }
    return seedKeyFilter(state, undefined);
  }

  /** Seeds the filter from the store (see seedKeyFilterFromStore); nothing once closed. */
  async function seedKeyFilter(
    state: SeedingFilter,
    newerThan: number | undefined,
  ): Promise<number> {
    return closed ? 0 : seedKeyFilterFromStore(client, db, state.keys, newerThan);
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

  /**
   * Saves the filter with the newest block of `spans`, read first: every key storedKeys answered
   * "not stored" is in the filter before its insert starts, so a span in a block up to that one is
   * in the bits copied after the read, and a start seeds only the parts holding newer blocks.
   */
  function save(): Promise<void> {
    const file = options.savedFilter;
    if (filter === undefined || file === undefined) return saving;
    saving = saving.then(async () => {
      if (!filter.ready || filter.keys.size === keysAtSave) return;
      try {
        const table = await spansTableState(client, db);
        const size = filter.keys.size;
        const bits = Buffer.from(filter.keys.bytes()); // a copy, taken right after the read
        await writeSavedFilter(
          file,
          { version: 2, hash: KEY_FILTER_HASH, ...table, keys: size, bytes: bits.byteLength },
          bits,
        );
        keysAtSave = size;
      } catch (err) {
        log.warn('saving the key filter failed; the next start seeds it from the store', {
          error: messageOf(err),
        });
      }
    });
    return saving;
  }

  return {
    async storedKeys(unique) {
      if (unique.length === 0) return new Set<string>();
      if (filter === undefined) return existingKeys(unique);
      const maybe = filter.ready
        ? unique.filter((s) => filter.keys.mightHaveRef(s.traceId, s.spanId))
        : unique;
      const found = maybe.length > 0 ? await existingKeys(maybe) : new Set<string>();
      // Added before the caller inserts them (a failed insert leaves a harmless "maybe"): a save
      // then holds every key of every block up to the newest it read (see save).
      if (found.size === 0) for (const s of unique) filter.keys.addRef(s.traceId, s.spanId);
      else
        for (const s of unique) if (!found.has(spanKey(s))) filter.keys.addRef(s.traceId, s.spanId);
      return found;
    },
    async close() {
      closed = true;
      if (saveTimer !== undefined) clearInterval(saveTimer);
      await save();
    },
  };
}

/** The key filter while it is seeded. */
interface SeedingFilter {
  keys: KeyFilter;
  /** Every stored key is in `keys`. */
  ready: boolean;
}

/**
 * Adds every stored key to `keys` (with `newerThan`, the keys in parts holding a block newer than
 * it: a merge moves rows into a part whose newest block is at least as new, so none is missed).
 * Many keys (at least one bit per 64-bit word of the filter, on average): the store computes each key's
 * bits (the filter's own hashes, keyFilterBitsSql) and sends one OR-ed word per 64 bits, one
 * aggregation instead of every key read into Node (10M keys: 33 s against 105 s at load 16).
 * Fewer keys (a start after a save, a small store): they are read into Node in pages, which is then
 * the faster way (300k keys: 0.76 s against 1.55 s, the words outnumbering the keys).
 */
export async function seedKeyFilterFromStore(
  client: ClickHouseClient,
  db: string,
  keys: KeyFilter,
  newerThan?: number,
): Promise<number> {
  const bits = keys.bytes().byteLength * 8;
  const newer =
    newerThan === undefined ? '' : `toUInt64OrZero(splitByChar('_', _part)[3]) > {b:UInt64}`;
  const params = { db, ...(newerThan === undefined ? {} : { b: newerThan }) };
  const counted = await client.query({
    query: `SELECT count() AS n FROM {db:Identifier}.spans ${newer ? `WHERE ${newer}` : ''}`,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: 'harness-meter sink key filter seed' },
  });
  const stored = Number((await counted.json<{ n: string }>())[0]?.n ?? 0);
  if (stored * KEY_FILTER_HASHES < bits / 64) return seedInPages(client, keys, newer, params);
  const rs = await client.query({
    query: `SELECT w, bitAnd(word, 4294967295) AS lo, bitShiftRight(word, 32) AS hi, n FROM (
              SELECT intDiv(bit, 64) AS w, groupBitOr(bitShiftLeft(toUInt64(1), bit % 64)) AS word, count() AS n
            FROM (SELECT arrayJoin(${keyFilterBitsSql('k', bits)}) AS bit
                  FROM (SELECT concat(TraceId, ':', SpanId) AS k FROM {db:Identifier}.spans ${newer ? `WHERE ${newer}` : ''}))
              GROUP BY w)`,
    query_params: params,
    format: 'TabSeparated',
    clickhouse_settings: { log_comment: 'harness-meter sink key filter seed' },
  });
  const text = await rs.text();
  let set = 0;
  let at = 0;
  while (at < text.length) {
    // w, the low and high 32 bits of 64-bit word w (Node's words 2w and 2w + 1), bits set
    const tab1 = text.indexOf('\t', at);
    const tab2 = text.indexOf('\t', tab1 + 1);
    const tab3 = text.indexOf('\t', tab2 + 1);
    let end = text.indexOf('\n', tab3 + 1);
    if (tab1 < 0 || tab2 < 0 || tab3 < 0)
      throw new Error(`key filter seed: a malformed line at offset ${at}`);
    if (end < 0) end = text.length;
    const w = Number(text.slice(at, tab1)) * 2;
    keys.orWord(w, Number(text.slice(tab1 + 1, tab2)));
    const hi = Number(text.slice(tab2 + 1, tab3));
    if (hi !== 0) keys.orWord(w + 1, hi); // a filter of an odd number of 32-bit words has no word w + 1
    set += Number(text.slice(tab3 + 1, end));
    at = end + 1;
  }
  const added = set / KEY_FILTER_HASHES;
  keys.addCount(added);
  return added;
}

/**
 * Adds the stored keys (matching `where`) to `keys`, read into Node in primary-key order, a page at
 * a time (memory stays bounded), as TabSeparated text scanned in place (a JSON parse of the same
 * page cost about 3× the whole seed).
 */
export async function seedInPages(
  client: ClickHouseClient,
  keys: KeyFilter,
  where: string,
  params: Record<string, unknown>,
): Promise<number> {
  let after: [string, string] = ['', ''];
  let n = 0;
  for (;;) {
    const rs = await client.query({
      query: `SELECT TraceId, SpanId FROM {db:Identifier}.spans
              WHERE (TraceId, SpanId) > ({t:String}, {s:String}) ${where ? `AND ${where}` : ''}
              ORDER BY TraceId, SpanId LIMIT {n:UInt32}`,
      query_params: { ...params, t: after[0], s: after[1], n: DEDUP_DEFAULTS.seedPage },
      format: 'TabSeparated',
      clickhouse_settings: { log_comment: 'harness-meter sink key filter seed' },
    });
    const page = addKeyPage(await rs.text(), keys);
    n += page.rows;
    if (page.rows < DEDUP_DEFAULTS.seedPage || page.last === undefined) return n;
    after = page.last;
  }
}

/** The `spans` table's id (a new table starts its blocks again) and its newest block. */
async function spansTableState(
  client: ClickHouseClient,
  db: string,
): Promise<{ table: string; maxBlock: number }> {
  const rs = await client.query({
    query: `SELECT
              (SELECT toString(uuid) FROM system.tables WHERE database = {db:String} AND name = 'spans') AS table,
              (SELECT max(max_block_number) FROM system.parts
               WHERE database = {db:String} AND table = 'spans' AND active) AS max_block`,
    query_params: { db },
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: 'harness-meter sink key filter blocks' },
  });
  const [row] = await rs.json<{ table: string; max_block: string | number }>();
  return { table: row?.table ?? '', maxBlock: Number(row?.max_block ?? 0) };
}

/** The header line of a saved filter file. */
interface SavedFilterHeader {
  version: 2;
  /** KEY_FILTER_HASH: bits made by other hashes are not reused. */
  hash: string;
  /** system.tables uuid of `spans` */
  table: string;
  /** The newest block of `spans` read before the bits were copied. */
  maxBlock: number;
  keys: number;
  bytes: number;
}

/** File: one JSON header line, then the filter's bits; written aside and renamed (never torn). */
async function writeSavedFilter(
  file: string,
  header: SavedFilterHeader,
  bits: Buffer,
): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), bits]));
  await rename(tmp, file);
}

/**
 * Adds a saved filter to `keys` when it belongs to this `spans` table; returns its key count and
 * the block after which spans must still be seeded. A file of an older version, another table, or
 * a table whose blocks went back (restored) is not used: the caller seeds every key.
 */
async function loadSavedFilter(
  client: ClickHouseClient,
  db: string,
  file: string,
  keys: KeyFilter,
  log: Logger,
): Promise<{ keys: number; newerThan: number; maxBlock: number } | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
  const nl = buf.indexOf(10);
  const header = JSON.parse(buf.toString('utf8', 0, nl)) as Partial<SavedFilterHeader>;
  const bits = buf.subarray(nl + 1);
  if (
    header.version !== 2 ||
    header.hash !== KEY_FILTER_HASH ||
    header.bytes !== bits.length ||
    typeof header.keys !== 'number' ||
    typeof header.maxBlock !== 'number'
  )
    return undefined;
  const now = await spansTableState(client, db);
  if (header.table !== now.table || now.maxBlock < header.maxBlock) {
    log.info('saved key filter is stale (another spans table, or an older copy): seeding it again');
    return undefined;
  }
  if (!keys.absorb(bits, header.keys)) return undefined;
  return { keys: header.keys, newerThan: header.maxBlock, maxBlock: now.maxBlock };
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
