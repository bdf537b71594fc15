import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf } from '@harness-meter/queries';
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
  /** Stops seeding the filter at its next page. */
  close(): void;
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
    void seedKeyFilter(state.keys).then(
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

  /** Adds every stored key, in primary-key order, a page at a time (memory stays bounded). */
  async function seedKeyFilter(keys: KeyFilter): Promise<number> {
    let after: [string, string] = ['', ''];
    let n = 0;
    for (;;) {
      const rs = await client.query({
        query: `SELECT TraceId, SpanId FROM {db:Identifier}.spans
                WHERE (TraceId, SpanId) > ({t:String}, {s:String})
                ORDER BY TraceId, SpanId LIMIT {n:UInt32}`,
        query_params: { db, t: after[0], s: after[1], n: DEDUP_DEFAULTS.seedPage },
        format: 'JSONCompactEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink key filter seed' },
      });
      const rows = await rs.json<[string, string]>();
      for (const [t, s] of rows) keys.add(`${t}:${s}`);
      n += rows.length;
      if (rows.length < DEDUP_DEFAULTS.seedPage || closed) return n;
      after = rows[rows.length - 1]!;
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
      const maybe = unique.filter((s) => filter.keys.mightHave(spanKey(s)));
      return maybe.length > 0 ? existingKeys(maybe) : new Set<string>();
    },
    remember(spans) {
      if (filter !== undefined) for (const s of spans) filter.keys.add(spanKey(s));
    },
    close() {
      closed = true;
    },
  };
}
