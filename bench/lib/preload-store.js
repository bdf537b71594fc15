// The stored data of the ingest bench's preload mode (HM_BENCH_INGEST_PRELOAD): a store filled with N
// spans once, kept in HM_BENCH_INGEST_PRELOAD_STORE when set (a 10M load takes minutes), and copied
// into each run's folder, with or without the key filter a clean stop saves beside the store.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../queries/dist/index.js';
import {
  createStoredKeys,
  seedInPages,
  seedKeyFilterFromStore,
} from '../../pipeline/dist/sink/dedup.js';
import { createKeyFilter, KEY_FILTER_DEFAULT_BITS } from '../../pipeline/dist/sink/key-filter.js';

/** The file a clean stop of the embedded server saves its key filter to (pipeline/src/embedded.ts). */
export const SAVED_FILTER_FILE = 'sink-key-filter.bin';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Saves the key filter of the store in `dataDir` as a clean stop of a server would: seeded from every
 * stored key, then written with the fingerprint of the store's parts. Returns the seconds it took.
 */
export async function saveKeyFilter(dataDir, db) {
  const t = performance.now();
  const client = await openStore({ kind: 'chdb', dataDir });
  let seeded;
  const done = new Promise((resolve) => (seeded = resolve));
  const keys = createStoredKeys(client, {
    db,
    keyFilter: true,
    savedFilter: join(dataDir, SAVED_FILTER_FILE),
    onKeyFilterSeeded: seeded,
    logger: silent,
  });
  const n = await done;
  await keys.close();
  await client.close();
  if (!existsSync(join(dataDir, SAVED_FILTER_FILE)))
    throw new Error('the key filter was not saved');
  return { keys: n, seconds: (performance.now() - t) / 1000 };
}

/**
 * Fills `dataDir` with `n` preloaded spans, copied from `source`: the load is made there once
 * (`fill(source, n)`, then the key filter saved beside it, as at a clean stop) and reused while its
 * marker file says it holds `n` spans. `filter` false leaves the saved filter out of the copy (a
 * crash, or a bulk load: the server seeds its filter from the store).
 */
export async function preloadInto(dataDir, n, { fill, source, db, filter }) {
  const marker = join(source, `.hm-bench-preload-${n}`);
  if (!existsSync(marker)) {
    rmSync(source, { recursive: true, force: true });
    mkdirSync(source, { recursive: true });
    await fill(source, n);
    writeFileSync(marker, new Date().toISOString());
  } else console.log(`  preloaded store reused from ${source}`);
  // Also when a kept store's filter was removed (e.g. after a change of the file's format).
  if (!existsSync(join(source, SAVED_FILTER_FILE))) {
    const saved = await saveKeyFilter(source, db);
    console.log(
      `  key filter of ${saved.keys.toLocaleString('en-US')} keys saved in ${saved.seconds.toFixed(1)} s (as at a clean stop)`,
    );
  }
  cpSync(source, dataDir, {
    recursive: true,
    filter: (src) => filter || !src.endsWith(`/${SAVED_FILTER_FILE}`),
  });
}

/**
 * Seconds to seed a key filter from every key stored in `dataDir`, two ways, alternated `rounds`
 * times: the store computing the bits (seedKeyFilterFromStore, the sink's seed), and the seed before
 * it, kept here as the baseline (pages of 200,000 TraceId/SpanId read as TabSeparated in key order
 * and hashed in Node). Returns the medians and the key counts.
 */
export async function timeSeeds(dataDir, db, rounds = 1) {
  const client = await openStore({ kind: 'chdb', dataDir });
  const inStore = [];
  const inNode = [];
  const keys = { store: 0, node: 0 };
  try {
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const a = createKeyFilter(KEY_FILTER_DEFAULT_BITS);
      keys.store = await seedKeyFilterFromStore(client, db, a);
      inStore.push((performance.now() - t) / 1000);
      t = performance.now();
      const b = createKeyFilter(KEY_FILTER_DEFAULT_BITS);
      keys.node = await seedInPages(client, b, '', { db }); // the previous seed, still the sink's for few keys
      inNode.push((performance.now() - t) / 1000);
      if (!Buffer.from(a.bytes()).equals(Buffer.from(b.bytes())))
        throw new Error('the two seeds set different bits');
    }
  } finally {
    await client.close();
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
  return { store: median(inStore), node: median(inNode), keys };
}
