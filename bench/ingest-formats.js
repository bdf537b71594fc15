// Benchmark: insert formats into chDB's spans table (with its materialized views), the choice behind the
// sink's insert path. The same priced spans (bench/ingest-requests.js, decoded and priced once before
// timing) are inserted in batches of HM_BENCH_FORMAT_BATCH rows as JSONEachRow through
// @clickhouse/client (the sink's format before issue 17: the baseline), JSONCompactEachRow through the
// client (what the sink sends to a ClickHouse server), and JSONCompactEachRow through chDB's raw insert
// (insertCompactRows on chDB). Formats rotate batch by batch so load changes hit each alike; the
// figure is the median rows/s. Then the dedup cost per batch at HM_BENCH_DEDUP_STORED stored spans,
// with and without the sink's key filter. Run: HM_BENCH=ingest-formats npm run bench
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { insertCompactRows, migrateUp, openStore } from '../queries/dist/index.js';
import { createSpanSink } from '../pipeline/dist/sink/sink.js';
import { SPAN_COLUMNS, toSpanRow, toSpanValues } from '../pipeline/dist/sink/rows.js';
import { pricedSpans } from './ingest-requests.js';

const BATCH = Number(process.env.HM_BENCH_FORMAT_BATCH ?? 6000);
const ROUNDS = Number(process.env.HM_BENCH_FORMAT_ROUNDS ?? 8);
const STORED = Number(process.env.HM_BENCH_DEDUP_STORED ?? 2_000_000);

const spans = await pricedSpans(BATCH * ROUNDS * 5);

const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-formats-'));
const client = await openStore({ kind: 'chdb', dataDir });
await migrateUp(client, 'hm');
const table = 'hm.spans';
const ways = {
  'JSONEachRow (client)': (b) =>
    client.insert({ table, values: b.map(toSpanRow), format: 'JSONEachRow' }),
  'JSONCompactEachRow (client)': (b) =>
    client.insert({
      table,
      values: b.map(toSpanValues),
      columns: SPAN_COLUMNS,
      format: 'JSONCompactEachRow',
    }),
  'JSONCompactEachRow (chDB raw insert)': (b) =>
    insertCompactRows(client, { table, columns: SPAN_COLUMNS, rows: b.map(toSpanValues) }),
};
const rates = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
let offset = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, insert] of Object.entries(ways)) {
    const batch = spans.slice(offset, offset + BATCH);
    offset += BATCH;
    const t = performance.now();
    await insert(batch);
    rates[name].push((BATCH / (performance.now() - t)) * 1000);
  }
}

// Dedup: a sink write of BATCH new spans into traces that already hold STORED spans (200 traces, as
// the ingest bench's sessions), with the per-batch lookup (no key filter: the sink before, and Kafka
// mode) and with the key filter seeded from the store.
await client.command({
  query: `INSERT INTO hm.spans (Timestamp, EndTimestamp, TraceId, SpanId, span_type)
          SELECT now64(9) - number, now64(9) - number, leftPad(hex(number % 200 + 1), 32, '0'),
                 concat('b0', leftPad(hex(number), 14, '0')), 'other'
          FROM numbers({n:UInt64})`,
  query_params: { n: STORED },
});
const lookup = createSpanSink(client, { db: 'hm', maxSpans: BATCH, maxWaitMs: 10 });
let seeded;
const seededKeys = new Promise((resolve) => (seeded = resolve));
const filtered = createSpanSink(client, {
  db: 'hm',
  maxSpans: BATCH,
  maxWaitMs: 10,
  keyFilter: true,
  onKeyFilterSeeded: (n) => seeded(n),
});
const seedStart = performance.now();
const seededCount = await seededKeys;
const seedMs = performance.now() - seedStart;
const sinkMs = { lookup: [], filter: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, sink] of [
    ['lookup', lookup],
    ['filter', filtered],
  ]) {
    const batch = spans.slice(offset, offset + BATCH);
    offset += BATCH;
    const t = performance.now();
    const r = await sink.write(batch);
    sinkMs[name].push(performance.now() - t);
    if (r.inserted !== batch.length)
      throw new Error(`${name}: ${r.inserted} of ${batch.length} stored`);
  }
}
await lookup.close();
await filtered.close();
await client.close();
rmSync(dataDir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(rates['JSONEachRow (client)']);
for (const [name, xs] of Object.entries(rates))
  console.log(
    `${name.padEnd(38)} ${Math.round(median(xs)).toLocaleString('en-US').padStart(8)} rows/s (median of ${ROUNDS} batches of ${BATCH})`,
  );
const load = Number(os.loadavg()[0].toFixed(2));
const raw = median(rates['JSONCompactEachRow (chDB raw insert)']);
console.log(
  `BENCH_RESULT ${JSON.stringify({ id: 'ingest-insert-rows', label: `chDB insert into spans with its views, JSONCompactEachRow raw insert, batches of ${BATCH}`, value: Math.round(raw), unit: 'rows/s', baseline: Math.round(base), baselineLabel: 'JSONEachRow through @clickhouse/client (the sink before)', aim: 'faster than the baseline', met: raw > base, load })}`,
);
const lookupMs = median(sinkMs.lookup);
const filterMs = median(sinkMs.filter);
console.log(
  `sink write of ${BATCH} new spans at ${STORED.toLocaleString('en-US')} stored: ${lookupMs.toFixed(0)} ms with the lookup, ${filterMs.toFixed(0)} ms with the key filter (seeded with ${seededCount} keys in ${(seedMs / 1000).toFixed(1)} s)`,
);
console.log(
  `BENCH_RESULT ${JSON.stringify({ id: 'ingest-sink-batch-ms', label: `sink write of ${BATCH} new spans into 200 traces holding ${STORED} spans, key filter on`, value: Math.round(filterMs), unit: 'ms', baseline: Math.round(lookupMs), baselineLabel: 'the same write with the per-batch lookup (the sink before; Kafka mode)', aim: 'below the baseline', met: filterMs < lookupMs, load: Number(os.loadavg()[0].toFixed(2)) })}`,
);
