import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { createKeyFilter } from '../../pipeline/src/sink/key-filter.js';
import { seedKeyFilterFromStore } from '../../pipeline/src/sink/dedup.js';
import { openTempStore } from '../helpers/store.js';

const DB = 'hm_key_filter_seed';
let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('key-filter-seed'));
  await migrateUp(client, DB);
  await store(ids(0, 3000));
});
afterAll(async () => {
  await client.close();
});

/** Stores spans with these ids (the other columns take their defaults). */
async function store(ids: readonly [string, string][]): Promise<void> {
  await client.insert({
    table: `${DB}.spans`,
    values: ids.map(([t, s]) => ({ TraceId: t, SpanId: s, Timestamp: '2026-11-20 10:00:00' })),
    format: 'JSONEachRow',
  });
}

/** Every stored (TraceId, SpanId). */
async function storedIds(): Promise<[string, string][]> {
  const rs = await client.query({
    query: `SELECT TraceId, SpanId FROM ${DB}.spans FINAL`,
    format: 'JSONCompactEachRow',
  });
  return rs.json<[string, string]>();
}

const maxBlock = async (): Promise<number> => {
  const rs = await client.query({
    query: `SELECT max(max_block_number) AS b FROM system.parts
            WHERE database = {db:String} AND table = 'spans' AND active`,
    query_params: { db: DB },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ b: string }>())[0]?.b ?? 0);
};

// Hex ids as exporters send them, and odd ones stored before ids were checked: non-ASCII, long,
// empty, with a tab or a backslash.
const ids = (from: number, n: number): [string, string][] =>
  Array.from({ length: n }, (_, i) => {
    const k = from + i;
    if (k % 97 === 0) return [`trace-é-${k}`, `span\t😀\\${k}`];
    if (k % 89 === 0) return [`${'f'.repeat(300)}${k}`, ''];
    return [(k % 50).toString(16).padStart(32, '0'), k.toString(16).padStart(16, '0')];
  });

// 2^16 bits: 2,048 words, fewer than the keys' bits: the store aggregates them. 2^24 bits: more words
// than bits to set: the keys are read into Node in pages.
describe.each([
  ['the store computes the bits', 1 << 16, 1 << 16],
  ['the keys are read into Node', 1 << 24, 1 << 24],
])('key filter seeded from the store (%s)', (_how, bits, laterBits) => {
  it('sets exactly the bits Node sets for the same keys, and counts them', async () => {
    const all = await storedIds();
    const fromStore = createKeyFilter(bits);
    expect(await seedKeyFilterFromStore(client, DB, fromStore)).toBe(all.length);
    const inNode = createKeyFilter(bits);
    for (const [t, s] of all) inNode.addRef(t, s);
    expect(Buffer.from(fromStore.bytes()).equals(Buffer.from(inNode.bytes()))).toBe(true);
    expect(fromStore.size).toBe(all.length);
  });

  it('with a block number, seeds every span stored after it, also once merged with older ones', async () => {
    const before = await maxBlock();
    const later = ids(10_000 + bits, 500);
    await store(later);
    await client.command({ query: `OPTIMIZE TABLE ${DB}.spans FINAL` });
    const seeded = createKeyFilter(laterBits);
    expect(await seedKeyFilterFromStore(client, DB, seeded, before)).toBeGreaterThanOrEqual(500);
    for (const [t, s] of later) expect(seeded.mightHaveRef(t, s)).toBe(true);
    // Nothing newer than the newest block: nothing to seed.
    const none = createKeyFilter(1 << 12);
    expect(await seedKeyFilterFromStore(client, DB, none, await maxBlock())).toBe(0);
    expect(none.mightHaveRef(later[0]![0], later[0]![1])).toBe(false);
  });
});
