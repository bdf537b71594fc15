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
import {
  chdbInsertTempDir,
  compactRowsBytes,
  insertCompactRows,
  insertCompactText,
  insertFileRows,
  migrateUp,
  openStore,
} from '../queries/dist/index.js';
import {
  CHDB_INSERT_SETTINGS,
  SINK_INSERT_SETTINGS,
  createSpanSink,
} from '../pipeline/dist/sink/sink.js';
import { SPAN_COLUMNS, toSpanRow, toSpanValues } from '../pipeline/dist/sink/rows.js';
import { SPAN_ROWBINARY_STRUCTURE, spanRowsRowBinary } from '../pipeline/dist/sink/rowbinary.js';
import { pricedSpans } from './ingest-requests.js';

const BATCH = Number(process.env.HM_BENCH_FORMAT_BATCH ?? 6000);
const ROUNDS = Number(process.env.HM_BENCH_FORMAT_ROUNDS ?? 8);
const STORED = Number(process.env.HM_BENCH_DEDUP_STORED ?? 2_000_000);
// Which parts run: `binary` (text vs RowBinary through file(), at the WAL drain's batch sizes),
// `formats` (the client formats), `dedup`.
const PARTS = new Set((process.env.HM_BENCH_FORMAT_PARTS ?? 'binary,formats,dedup').split(','));
const BIN_BATCHES = (process.env.HM_BENCH_FORMAT_BINARY_BATCHES ?? '6000,25000,50000')
  .split(',')
  .map(Number);
const BIN_ROUNDS = Number(process.env.HM_BENCH_FORMAT_BINARY_ROUNDS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const spans = await pricedSpans(
  Math.max(BATCH * ROUNDS * 5, PARTS.has('binary') ? Math.max(...BIN_BATCHES) * 2 : 0),
);

const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-formats-'));
const client = await openStore({ kind: 'chdb', dataDir });
await migrateUp(client, 'hm');
const table = 'hm.spans';

if (PARTS.has('binary')) await binaryFormats();

/**
 * The sink's text insert (JSONCompactEachRow bytes through chDB's raw insert, the sink's settings)
 * against RowBinary bytes through file() (a temp file in /dev/shm), into spans with every view, and
 * into a copy of spans without views (what is left once parsing is cheap: views or parts). Variants
 * rotate insert by insert; median rows/s per batch size, and the JS cost of writing each format.
 */
async function binaryFormats() {
  const sinkSettings = { ...SINK_INSERT_SETTINGS, ...CHDB_INSERT_SETTINGS };
  const tempDir = chdbInsertTempDir(dataDir);
  await client.command({ query: 'CREATE TABLE hm.spans_bare AS hm.spans' });
  const text = (t, settings) => (b) =>
    insertCompactText(client, {
      table: t,
      columns: SPAN_COLUMNS,
      text: compactRowsBytes(b, toSpanValues),
      clickhouse_settings: settings,
    });
  const binary = (t, settings) => (b) =>
    insertFileRows(client, {
      table: t,
      columns: SPAN_COLUMNS,
      bytes: spanRowsRowBinary(b),
      structure: SPAN_ROWBINARY_STRUCTURE,
      tempDir,
      clickhouse_settings: settings,
    });
  const twoThreads = { ...SINK_INSERT_SETTINGS, max_threads: 2, max_insert_threads: 2 };
  const variants = {
    'JSONCompactEachRow raw insert, sink settings': text(table, sinkSettings),
    'RowBinary file(), sink settings': binary(table, sinkSettings),
    'RowBinary file(), 2 threads': binary(table, twoThreads),
    'RowBinary file(), parallel parsing, 2 threads': binary(table, {
      ...twoThreads,
      input_format_parallel_parsing: 1,
    }),
    'JSONCompactEachRow raw insert, no views': text('hm.spans_bare', sinkSettings),
    'RowBinary file(), no views': binary('hm.spans_bare', sinkSettings),
  };
  // JS cost of each format, on the largest batch (three passes, the last timed).
  const big = spans.slice(0, Math.max(...BIN_BATCHES));
  const encode = {};
  for (const [name, f] of [
    ['JSONCompactEachRow', (b) => compactRowsBytes(b, toSpanValues)],
    ['RowBinary', (b) => spanRowsRowBinary(b)],
  ]) {
    let bytes = 0;
    let us = 0;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      bytes = f(big).length;
      us = ((performance.now() - t) * 1000) / big.length;
    }
    encode[name] = us;
    console.log(
      `encode ${name.padEnd(20)} ${us.toFixed(2)} µs/span, ${(bytes / big.length).toFixed(0)} bytes/span`,
    );
  }
  for (const batch of BIN_BATCHES) {
    const rates = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    let at = 0;
    for (let round = 0; round < BIN_ROUNDS; round++) {
      for (const [name, insert] of Object.entries(variants)) {
        if (at + batch > spans.length) at = 0;
        const b = spans.slice(at, at + batch);
        at += batch;
        const t = performance.now();
        await insert(b);
        rates[name].push((batch / (performance.now() - t)) * 1000);
      }
    }
    for (const [name, xs] of Object.entries(rates))
      console.log(
        `batch ${String(batch).padStart(6)}  ${name.padEnd(48)} ${Math.round(median(xs)).toLocaleString('en-US').padStart(8)} rows/s (median of ${BIN_ROUNDS})`,
      );
    const base = median(rates['JSONCompactEachRow raw insert, sink settings']);
    const value = median(rates['RowBinary file(), sink settings']);
    console.log(
      `BENCH_RESULT ${JSON.stringify({ id: `ingest-insert-rowbinary-${batch}`, label: `chDB insert into spans with its views, RowBinary through file() in /dev/shm, batches of ${batch}, sink settings (insert only; encoding ${encode.RowBinary.toFixed(2)} vs ${encode.JSONCompactEachRow.toFixed(2)} µs/span in JS)`, value: Math.round(value), unit: 'rows/s', baseline: Math.round(base), baselineLabel: 'JSONCompactEachRow through chDB raw insert, same settings, same run (the sink today)', aim: 'faster than the baseline (toward 50000 spans/s end to end)', met: value > base, load: Number(os.loadavg()[0].toFixed(2)) })}`,
    );
  }
  await client.command({ query: 'DROP TABLE hm.spans_bare' });
}
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
for (let round = 0; PARTS.has('formats') && round < ROUNDS; round++) {
  for (const [name, insert] of Object.entries(ways)) {
    const batch = spans.slice(offset, offset + BATCH);
    offset += BATCH;
    const t = performance.now();
    await insert(batch);
    rates[name].push((BATCH / (performance.now() - t)) * 1000);
  }
}

if (PARTS.has('formats')) {
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
}
if (PARTS.has('dedup')) {
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
  const lookupMs = median(sinkMs.lookup);
  const filterMs = median(sinkMs.filter);
  console.log(
    `sink write of ${BATCH} new spans at ${STORED.toLocaleString('en-US')} stored: ${lookupMs.toFixed(0)} ms with the lookup, ${filterMs.toFixed(0)} ms with the key filter (seeded with ${seededCount} keys in ${(seedMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `BENCH_RESULT ${JSON.stringify({ id: 'ingest-sink-batch-ms', label: `sink write of ${BATCH} new spans into 200 traces holding ${STORED} spans, key filter on`, value: Math.round(filterMs), unit: 'ms', baseline: Math.round(lookupMs), baselineLabel: 'the same write with the per-batch lookup (the sink before; Kafka mode)', aim: 'below the baseline', met: filterMs < lookupMs, load: Number(os.loadavg()[0].toFixed(2)) })}`,
  );
}
await client.close();
rmSync(dataDir, { recursive: true, force: true });
