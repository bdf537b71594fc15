// Benchmark: the insert ceiling of the embedded store (issue 17, "Ingest, embedded"). Where does a
// chDB insert of priced spans spend its time? The same priced rows (bench/ingest-requests.js, decoded
// and priced once before timing) go through chDB's raw insert into a fresh database per variant:
//   - views: every materialized view on `spans` (as migrated: the baseline), each view dropped in
//     turn, and none;
//   - batch: HM_BENCH_CEILING_BATCHES rows per insert (default 10000,50000,200000), all views and none;
//   - format: JSONCompactEachRow (the sink's) and TabSeparated, the text formats chDB's raw insert
//     takes (its whitelist has no binary format: RowBinary, Native, Arrow and Parquet are refused);
//   - settings: optimize_on_insert=0, min_insert_block_size_rows, and the embedded sink's settings
//     (SINK_INSERT_SETTINGS + CHDB_INSERT_SETTINGS: optimize_on_insert=0, one thread), all views, at
//     the middle and the smallest batch size.
// Each variant inserts HM_BENCH_CEILING_ROWS rows (default 200000) into its own database; variants
// rotate insert by insert so a change of load hits each alike; the figure is rows/s over the variant's
// whole time. Run: HM_BENCH=ingest-ceiling npm run bench
// (smoke: HM_BENCH_CEILING_ROWS=40000 HM_BENCH_CEILING_BATCHES=10000,20000)
// HM_BENCH_CEILING_VARIANTS=<regex> runs only the matching variants beside the two baselines, e.g.
// HM_BENCH_CEILING_VARIANTS='sink settings' (the write-ahead log's drain: batch size and parsing threads).
// HM_BENCH_CEILING_FORMAT=RowBinary: every variant inserts RowBinary through file() (the sink's path on
// chDB since issue 17's fourth pass) instead of JSONCompactEachRow through the raw insert, and the
// settings variants add parallel_view_processing and two insert threads. Each variant also prints the
// process CPU time per 1,000 rows (chDB runs in this process: every insert thread counts), steadier
// than wall time on a loaded machine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { chdbInsertTempDir, insertFileRows, migrateUp, openStore } from '../queries/dist/index.js';
import { SPAN_COLUMNS, toSpanValues } from '../pipeline/dist/sink/rows.js';
import { SPAN_ROWBINARY_STRUCTURE, spanRowsRowBinary } from '../pipeline/dist/sink/rowbinary.js';
import { CHDB_INSERT_SETTINGS, SINK_INSERT_SETTINGS } from '../pipeline/dist/sink/sink.js';
import { pricedSpans } from './ingest-requests.js';

const ROWS = Number(process.env.HM_BENCH_CEILING_ROWS ?? 200_000);
const BATCHES = (process.env.HM_BENCH_CEILING_BATCHES ?? '10000,50000,200000')
  .split(',')
  .map(Number);
const BASE_BATCH = BATCHES.includes(50_000) ? 50_000 : BATCHES[Math.floor(BATCHES.length / 2)];

const FORMAT = process.env.HM_BENCH_CEILING_FORMAT ?? 'JSONCompactEachRow';
if (!['JSONCompactEachRow', 'RowBinary'].includes(FORMAT))
  throw new Error(`HM_BENCH_CEILING_FORMAT=${FORMAT}: use JSONCompactEachRow or RowBinary`);
const BINARY = FORMAT === 'RowBinary';

const spans = await pricedSpans(ROWS);
spans.length = ROWS;
const values = spans.map(toSpanValues);
/** CPU time of this process (every thread: chDB's insert threads too), ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** TabSeparated text of one row (strings escaped, Maps as {'k':'v'}, NULL as \N). */
const tsvEscape = (s) =>
  s.replace(/[\\\t\n\r\0']/g, (c) =>
    c === '\\'
      ? '\\\\'
      : c === '\t'
        ? '\\t'
        : c === '\n'
          ? '\\n'
          : c === '\r'
            ? '\\r'
            : c === '\0'
              ? '\\0'
              : "\\'",
  );
const tsvValue = (v) => {
  if (v === null) return '\\N';
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `'${tsvEscape(k)}':'${tsvEscape(x)}'`)
      .join(',')}}`;
  return typeof v === 'string' ? tsvEscape(v) : String(v);
};
const encoders = {
  JSONCompactEachRow: (rows) => {
    let body = '';
    for (const r of rows) body += JSON.stringify(r) + '\n';
    return Buffer.from(body, 'utf8');
  },
  TabSeparated: (rows) => {
    let body = '';
    for (const r of rows) body += r.map(tsvValue).join('\t') + '\n';
    return Buffer.from(body, 'utf8');
  },
};

const dataDir = mkdtempSync(join(os.tmpdir(), 'hm-bench-ceiling-'));
// RowBinary goes through insertFileRows, which takes only a client openStore opened on chDB.
const connection = BINARY ? undefined : createChdbConnection({ path: dataDir });
const client = BINARY ? await openStore({ kind: 'chdb', dataDir }) : createClient({ connection });
const COMMON = { date_time_input_format: 'best_effort' };
const tempDir = chdbInsertTempDir(dataDir);
const SINK_SETTINGS = { ...SINK_INSERT_SETTINGS, ...CHDB_INSERT_SETTINGS };

let dbs = 0;
/** A migrated database with `drop` views removed ('all' removes every view on spans). */
async function freshDb(drop) {
  const db = `hm_c${dbs++}`;
  await migrateUp(client, db);
  const rs = await client.query({
    query: `SELECT name FROM system.tables WHERE database = {db:String} AND engine = 'MaterializedView'
            AND has(dependencies_table, 'spans') OR (database = {db:String} AND engine = 'MaterializedView'
            AND create_table_query LIKE concat('%FROM ', {db:String}, '.spans%'))`,
    query_params: { db },
    format: 'JSONEachRow',
  });
  const views = [...new Set((await rs.json()).map((r) => r.name))];
  for (const v of views)
    if (drop === 'all' || drop === v) await client.command({ query: `DROP VIEW ${db}.${v}` });
  return { db, views };
}

const probe = await freshDb('none');
const viewNames = probe.views.sort();
console.log(`materialized views on spans: ${viewNames.join(', ')}`);

const variants = [];
const add = (name, drop, batch, format = 'JSONCompactEachRow', settings = {}) =>
  variants.push({
    name,
    drop,
    batch,
    format: BINARY && format === 'JSONCompactEachRow' ? 'RowBinary' : format,
    // RowBinary: the sink's settings unless the variant says otherwise (the sink's path as it is).
    settings: BINARY && Object.keys(settings).length === 0 ? SINK_SETTINGS : settings,
    ms: 0,
    cpuMs: 0,
    rows: 0,
    encodeMs: 0,
  });
add('all views (as migrated)', 'none', BASE_BATCH);
for (const v of viewNames) add(`without ${v}`, v, BASE_BATCH);
add('no views', 'all', BASE_BATCH);
for (const b of BATCHES)
  if (b !== BASE_BATCH) {
    add(`all views, batch ${b}`, 'none', b);
    add(`no views, batch ${b}`, 'all', b);
  }
if (!BINARY) {
  add('all views, TabSeparated', 'none', BASE_BATCH, 'TabSeparated');
  add('no views, TabSeparated', 'all', BASE_BATCH, 'TabSeparated');
}
add('all views, optimize_on_insert=0', 'none', BASE_BATCH, 'JSONCompactEachRow', {
  optimize_on_insert: 0,
});
add('all views, min_insert_block_size_rows=1048576', 'none', BASE_BATCH, 'JSONCompactEachRow', {
  min_insert_block_size_rows: 1_048_576,
  min_insert_block_size_bytes: 1 << 30,
});
const sinkSettings = { ...SINK_INSERT_SETTINGS, ...CHDB_INSERT_SETTINGS };
add('all views, sink settings', 'none', BASE_BATCH, 'JSONCompactEachRow', sinkSettings);
const smallest = Math.min(...BATCHES);
if (smallest !== BASE_BATCH)
  add(
    `all views, batch ${smallest}, sink settings`,
    'none',
    smallest,
    'JSONCompactEachRow',
    sinkSettings,
  );
// The write-ahead log's drain inserts large batches while the receiver decodes on the main thread:
// is a second parsing thread worth it there? (sink settings with parallel parsing, two threads)
const parallel = { ...sinkSettings, max_threads: 2, input_format_parallel_parsing: 1 };
add(
  'all views, sink settings, parallel parsing',
  'none',
  BASE_BATCH,
  'JSONCompactEachRow',
  parallel,
);
if (BINARY) {
  // Views run one after the other on the insert thread unless parallel_view_processing is set.
  add('all views, sink settings, parallel_view_processing', 'none', BASE_BATCH, FORMAT, {
    ...sinkSettings,
    parallel_view_processing: 1,
  });
  const two = { ...sinkSettings, max_threads: 2, max_insert_threads: 2 };
  add('all views, sink settings, 2 threads', 'none', BASE_BATCH, FORMAT, two);
  add('all views, sink settings, 2 threads, parallel_view_processing', 'none', BASE_BATCH, FORMAT, {
    ...two,
    parallel_view_processing: 1,
  });
  add('no views, sink settings', 'all', BASE_BATCH, FORMAT, sinkSettings);
  // Before migration 0026: inserted parts of spans above 10 MiB written wide (a few hundred files).
  add('all views, sink settings, wide spans parts', 'none', BASE_BATCH, FORMAT, sinkSettings);
  variants.at(-1).wide = true;
}
const largest = Math.max(...BATCHES);
if (largest !== BASE_BATCH) {
  add(
    `all views, batch ${largest}, sink settings`,
    'none',
    largest,
    'JSONCompactEachRow',
    sinkSettings,
  );
  add(
    `all views, batch ${largest}, sink settings, parallel parsing`,
    'none',
    largest,
    'JSONCompactEachRow',
    parallel,
  );
}
const BASE_FORMAT = BINARY ? 'RowBinary' : 'JSONCompactEachRow';
// HM_BENCH_CEILING_VARIANTS=<regex>: only the variants whose name matches (plus the two baselines).
if (process.env.HM_BENCH_CEILING_VARIANTS) {
  const only = new RegExp(process.env.HM_BENCH_CEILING_VARIANTS);
  const keep = variants.filter(
    (v, i) =>
      i === 0 ||
      (v.drop === 'all' && v.batch === BASE_BATCH && v.format === BASE_FORMAT) ||
      only.test(v.name),
  );
  variants.length = 0;
  variants.push(...keep);
}
for (const v of variants) {
  v.db = (await freshDb(v.drop)).db;
  if (v.wide)
    await client.command({
      query: `ALTER TABLE ${v.db}.spans RESET SETTING min_bytes_for_wide_part`,
    });
}

// Rotate: each round, each variant inserts its next batch.
let more = true;
while (more) {
  more = false;
  for (const v of variants) {
    if (v.rows >= ROWS) continue;
    const rows = values.slice(v.rows, v.rows + v.batch);
    const te = performance.now();
    const body =
      v.format === 'RowBinary'
        ? spanRowsRowBinary(spans.slice(v.rows, v.rows + v.batch))
        : encoders[v.format](rows);
    v.encodeMs += performance.now() - te;
    const t = performance.now();
    const c = cpuMs();
    if (v.format === 'RowBinary')
      await insertFileRows(client, {
        table: `${v.db}.spans`,
        columns: SPAN_COLUMNS,
        bytes: body,
        structure: SPAN_ROWBINARY_STRUCTURE,
        tempDir,
        clickhouse_settings: v.settings,
      });
    else
      await connection.chdb.rawInsert({
        table: `${v.db}.spans`,
        columns: SPAN_COLUMNS,
        values: body,
        format: v.format,
        settings: { ...COMMON, ...v.settings },
      });
    v.cpuMs += cpuMs() - c;
    v.ms += performance.now() - t;
    v.rows += rows.length;
    if (v.rows < ROWS) more = true;
  }
}
// Every variant stored every row (and a view that was kept saw them).
for (const v of variants) {
  const rs = await client.query({
    query: `SELECT count() AS n FROM ${v.db}.spans`,
    format: 'JSONEachRow',
  });
  const [{ n }] = await rs.json();
  if (Number(n) !== ROWS) throw new Error(`${v.name}: ${n} of ${ROWS} rows stored`);
}
await client.close();
rmSync(dataDir, { recursive: true, force: true });

const rate = (v) => (v.rows / v.ms) * 1000;
const base = variants[0];
const none = variants.find(
  (v) => v.drop === 'all' && v.batch === BASE_BATCH && v.format === BASE_FORMAT,
);
const load = Number(os.loadavg()[0].toFixed(2));
console.log(
  `chDB raw insert into spans, ${ROWS.toLocaleString('en-US')} rows per variant (load ${load}):`,
);
for (const v of variants)
  console.log(
    `  ${v.name.padEnd(48)} ${Math.round(rate(v)).toLocaleString('en-US').padStart(9)} rows/s  ` +
      `(${((v.ms / v.rows) * 1000).toFixed(1)} ms per 1,000 rows in chDB, CPU ${((v.cpuMs / v.rows) * 1000).toFixed(1)} ms; encoding ${((v.encodeMs / v.rows) * 1000).toFixed(1)} ms per 1,000)`,
  );
console.log('Share of the insert time per view (time with all views - time without it):');
for (const v of variants.filter((x) => viewNames.includes(x.drop)))
  console.log(
    `  ${v.drop.padEnd(34)} ${(((base.ms - v.ms) / base.ms) * 100).toFixed(0).padStart(4)} % of the time, ` +
      `${(((base.cpuMs - v.cpuMs) / base.cpuMs) * 100).toFixed(0).padStart(4)} % of the CPU`,
  );
const result = (id, label, value, baseline, baselineLabel, aim, met) =>
  console.log(
    `BENCH_RESULT ${JSON.stringify({ id, label, value, unit: 'rows/s', baseline, baselineLabel, aim, met, load })}`,
  );
result(
  'ingest-ceiling-no-views',
  `chDB raw insert into spans without its materialized views, batches of ${BASE_BATCH}`,
  Math.round(rate(none)),
  Math.round(rate(base)),
  'the same insert with every view (as migrated)',
  'the ceiling the views leave',
  true,
);
for (const v of variants.slice(1)) {
  if (v === none) continue;
  result(
    `ingest-ceiling-${v.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    `chDB raw insert into spans, ${v.name}, batches of ${v.batch}, ${v.format}`,
    Math.round(rate(v)),
    Math.round(rate(base)),
    `all views, batches of ${BASE_BATCH}, ${BASE_FORMAT}`,
    'faster than the baseline',
    rate(v) > rate(base),
  );
}
