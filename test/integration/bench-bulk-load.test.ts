import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { openTempStore } from '../helpers/store.js';

interface Generation {
  spans: number;
  prs: number;
  start: Date;
  end: Date;
  chunk: number;
}
/** What this test calls of bench/lib/link-data.js (plain JavaScript, typed here). */
interface LinkData {
  insertSpans: (client: ClickHouseClient, db: string, gen: Generation) => Promise<void>;
  insertSpansBulk: (
    client: ClickHouseClient,
    db: string,
    gen: Generation,
    options: { sliceRows: number },
  ) => Promise<{ slices: number }>;
}
const { insertSpans, insertSpansBulk } = (await import(
  new URL('../../bench/lib/link-data.js', import.meta.url).href
)) as LinkData;

/**
 * The reports bench's bulk load (bench/lib/link-data.js insertSpansBulk: views detached, each view's
 * target filled afterwards in TraceId slices) must leave the same rollups as the same spans inserted
 * through the materialized views. Two databases in one chDB folder, the same generated spans.
 */
const VIEWS = 'hm_bulk_views';
const BULK = 'hm_bulk_sliced';
const end = new Date('2026-11-30T00:00:00Z');
const gen: Generation = {
  spans: 24_000,
  prs: 40,
  start: new Date(end.getTime() - 90 * 86_400_000),
  end,
  chunk: 6_000,
};
// Columns stamped with the insert's own time (the two loads run at different moments).
const INSERT_TIME = new Set(['id', 'marked_at', 'last']);

let client: ClickHouseClient;
let dataDir: string;
let slices = 0;

beforeAll(async () => {
  ({ client, dataDir } = await openTempStore('bench-bulk'));
  await migrateUp(client, VIEWS);
  await migrateUp(client, BULK);
  await insertSpans(client, VIEWS, gen);
  ({ slices } = await insertSpansBulk(client, BULK, gen, { sliceRows: 5_000 }));
}, 120_000);

afterAll(async () => {
  await client?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function json<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

async function targets(): Promise<{ table: string; engine: string; columns: string[] }[]> {
  const views = await json<{ create_table_query: string; as_select: string }>(
    `SELECT create_table_query, as_select FROM system.tables
     WHERE database = {db:String} AND engine = 'MaterializedView'`,
    { db: BULK },
  );
  const names = [
    ...new Set(
      views
        .filter((v) => new RegExp(`FROM\\s+\`?${BULK}\`?\\.\`?spans\`?(\\s|$)`).test(v.as_select))
        .map((v) => /\sTO\s+`?[\w]+`?\.`?(\w+)`?/.exec(v.create_table_query)?.[1] ?? ''),
    ),
  ];
  return Promise.all(
    names.map(async (table) => {
      const [{ engine }] = (await json<{ engine: string }>(
        'SELECT engine FROM system.tables WHERE database = {db:String} AND name = {t:String}',
        { db: BULK, t: table },
      )) as [{ engine: string }];
      const columns = (
        await json<{ name: string }>(
          'SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position',
          { db: BULK, t: table },
        )
      )
        .map((c) => c.name)
        .filter((c) => !INSERT_TIME.has(c));
      return { table, engine, columns };
    }),
  );
}

describe('reports bench: bulk load in slices', () => {
  it('cuts the spans into several TraceId slices', () => {
    expect(slices).toBeGreaterThanOrEqual(3);
  });

  it('leaves every view target with the same rows as inserting through the views', async () => {
    const tables = await targets();
    expect(tables.map((t) => t.table).sort()).toEqual(
      expect.arrayContaining([
        'usage_by_minute',
        'usage_by_hour',
        'usage_by_link_hour',
        'link_dirty',
      ]),
    );
    for (const { table, engine, columns } of tables) {
      const read = (db: string) =>
        json<Record<string, unknown>>(
          `SELECT DISTINCT ${columns.map((c) => `\`${c}\``).join(', ')}
           FROM {db:Identifier}.${table}${engine === 'MergeTree' ? '' : ' FINAL'} ORDER BY ALL`,
          { db },
        );
      const [viaViews, bulk] = await Promise.all([read(VIEWS), read(BULK)]);
      expect(viaViews.length, table).toBeGreaterThan(0);
      expect(bulk, table).toEqual(viaViews);
    }
  });
});
