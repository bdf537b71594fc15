/**
 * The RowBinary insert (HM_CHDB_INSERT_FORMAT=rowbinary) against the JSONCompactEachRow text insert:
 * the same generated batches, every edge a span can carry, through the real sink into two
 * migrated databases of one chDB store, must leave byte-identical tables (spans and every table
 * its views feed), the same refusals, and no temporary file behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertFileRows,
  migrateUp,
  removeStaleInsertFiles,
  type ClickHouseClient,
} from '@harness-meter/queries';
import type { PricedSpan } from '../../pipeline/src/model.js';
import { createSpanSink, type SinkWriteResult } from '../../pipeline/src/sink/sink.js';
import { SPAN_ROWBINARY_STRUCTURE, spanRowsRowBinary } from '../../pipeline/src/sink/rowbinary.js';
import { SPAN_COLUMNS } from '../../pipeline/src/sink/rows.js';
import { encodeSpanRecord, encodeSpanRecordBinary } from '../../pipeline/src/sink/wal-records.js';
import { createWalSpanSink } from '../../pipeline/src/sink/wal-sink.js';
import { openWriteAheadLog } from '../../pipeline/src/wal/log.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';

let client: ClickHouseClient;
let tempDir: string;

beforeAll(async () => {
  let dataDir: string;
  ({ client, dataDir } = await openTempStore('sink-rowbinary'));
  cleanup.push(dataDir);
  // The data-folder fallback of the temp files, so the test can check the folder stays empty.
  tempDir = join(dataDir, 'insert-tmp');
  mkdirSync(tempDir);
  await migrateUp(client, 'txt');
  await migrateUp(client, 'bin');
});
/** Folders to remove after the file. */
const cleanup: string[] = [];
afterAll(async () => {
  await client.close();
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** A seeded generator, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4_294_967_296;
  };
}

const TEXTS = [
  '',
  'plain',
  'quote " and \\ backslash',
  "single ' quote",
  'tab\tnewline\ncr\r',
  'controls \u0000\u0001\u001f\u007f\u0085',
  'é ü ß – “curly”',
  '中文 日本語 한국어',
  'emoji 😀🧪 flag 🇫🇷',
  '\u2028\u2029 separators',
  'a'.repeat(42),
  'é'.repeat(42), // 84 bytes: the short path with non-ASCII
  '😀'.repeat(21), // 42 code units, 84 bytes
  'b'.repeat(43),
  'x'.repeat(200) + 'é', // a two-byte length
  'long '.repeat(4000), // 20,000 bytes
  '{"json":[1,2,{"k":"v"}]}',
  'NULL',
  '\\N',
];

function generate(n: number, seed: number): PricedSpan[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const text = (): string => pick(TEXTS);
  const big = (): bigint | null =>
    pick([
      null,
      0n,
      1n,
      -1n,
      123_456_789_012n,
      9_223_372_036_854_775_807n,
      -9_223_372_036_854_775_808n,
      BigInt(Math.floor(r() * 1e15)),
    ]);
  const count = (): number =>
    pick([0, 1, 127, 128, 65_535, 4_294_967_296, Number.MAX_SAFE_INTEGER, Math.floor(r() * 1e6)]);
  const attrs = (): Record<string, string> => {
    const size = pick([0, 0, 0, 1, 1, 3, 3, 3, 3, 130]); // 130: a map count that takes two bytes
    const m: Record<string, string> = {};
    for (let i = 0; i < size; i++) m[`${text().slice(0, 30)}.${i}`] = text();
    if (r() < 0.2) m['7'] = 'an integer-like key comes first'; // the object's own key order
    return m;
  };
  const time = (): bigint =>
    pick([
      0n,
      1n,
      999_999_999n,
      1_763_632_800_123_456_789n,
      BigInt(Date.UTC(2099, 11, 31, 23, 59, 59)) * 1_000_000n + 999_999n,
      9_223_372_036_854_775_807n, // the last time DateTime64(9) holds
      1_763_632_800_000_000_000n + BigInt(Math.floor(r() * 1e15)),
    ]);
  return Array.from({ length: n }, () => {
    const start = time();
    return pricedSpan({
      parentSpanId: r() < 0.5 ? '' : 'abcdef0123456789',
      name: text(),
      kind: pick([0, 1, 2, 3, 4, 5]),
      startTimeUnixNano: start,
      endTimeUnixNano: r() < 0.2 ? (start - 1n < 0n ? 0n : start - 1n) : time(), // end before start too
      statusCode: pick([0, 1, 2]),
      statusMessage: text(),
      serviceName: text(),
      scopeName: text(),
      resourceAttributes: attrs(),
      spanAttributes: attrs(),
      spanType: pick(['llm', 'tool', 'agent', 'other'] as const),
      operation: text(),
      provider: text(),
      requestModel: text(),
      responseModel: r() < 0.5 ? '' : text(),
      sessionId: text(),
      developer: text(),
      team: text(),
      repo: text(),
      branch: text(),
      commit: text(),
      pr: pick([0, 1, 4_294_967_295]),
      intent: text(),
      source: text(),
      ...(r() < 0.5 ? {} : { keyId: text() }),
      inputTokens: count(),
      outputTokens: count(),
      cacheReadTokens: count(),
      cacheWriteTokens: count(),
      cacheWrite5mTokens: count(),
      cacheWrite1hTokens: count(),
      reasoningTokens: count(),
      reportedCostNanos: big(),
      ...(r() < 0.5
        ? {}
        : { usageCheck: pick(['', 'cache_exceeds_input', 'cache_split_mismatch'] as const) }),
      priceId: text(),
      costNanos: big(),
      inputCostNanos: big(),
      outputCostNanos: big(),
      cacheReadCostNanos: big(),
      cacheWriteCostNanos: big(),
      unpriced: r() < 0.5,
      toolName: text(),
      toolCallId: text(),
      toolClass: pick(['', 'read', 'write', 'search', 'exec', 'fetch', 'other'] as const),
      argsHash: text(),
      targetHash: text(),
      resultBytes: count(),
      resultTokens: count(),
      isError: r() < 0.5,
    });
  });
}

async function text(query: string): Promise<string> {
  const rs = await client.query({ query, format: 'TabSeparatedWithNames' });
  return rs.text();
}

/** Every table of a database with its columns, less those filled at insert time (`now64()`, ids). */
async function tables(db: string): Promise<{ name: string; columns: string[] }[]> {
  const rs = await client.query({
    query: `SELECT table, groupArray(name) FROM (
              SELECT table, name FROM system.columns
              WHERE database = {db:String} AND default_expression NOT ILIKE '%now%'
                AND default_expression NOT ILIKE '%generateUUID%'
                AND table IN (SELECT name FROM system.tables WHERE database = {db:String}
                              AND engine NOT LIKE '%View%' AND name != 'schema_migrations')
              ORDER BY table, position)
            GROUP BY table ORDER BY table`,
    query_params: { db },
    format: 'JSONCompactEachRow',
  });
  return (await rs.json<[string, string[]]>()).map(([name, columns]) => ({ name, columns }));
}

/** Columns a view fills from the insert time (`max(ingested_at)`). */
const INSERT_TIME_COLUMNS = new Set(['session_activity.last']);

/**
 * Every table's rows in order. `merged`: after OPTIMIZE … FINAL and as distinct rows, for stores
 * written in different batches (a view's rows per insert differ until merged; link_dirty keeps one
 * mark per hour per insert).
 */
async function dump(db: string, merged = false): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await tables(db)) {
    if (merged) await client.command({ query: `OPTIMIZE TABLE ${db}.${t.name} FINAL` });
    const cols = t.columns
      .filter((c) => !INSERT_TIME_COLUMNS.has(`${t.name}.${c}`))
      .map((c) => `\`${c}\``)
      .join(', ');
    out[t.name] = await text(
      `SELECT ${merged ? 'DISTINCT' : ''} ${cols} FROM ${db}.${t.name} ORDER BY ${cols}`,
    );
  }
  return out;
}

const sinks = () => ({
  txt: createSpanSink(client, {
    db: 'txt',
    maxSpans: 100_000,
    maxWaitMs: 1,
    insertFormat: { format: 'compact' },
  }),
  bin: createSpanSink(client, {
    db: 'bin',
    maxSpans: 100_000,
    maxWaitMs: 1,
    insertFormat: { format: 'rowbinary', tempDir },
  }),
});

describe('RowBinary insert through file()', () => {
  it('declares the spans table types column by column', async () => {
    const rs = await client.query({
      query: `SELECT name, type FROM system.columns WHERE database = 'txt' AND table = 'spans'`,
      format: 'JSONCompactEachRow',
    });
    const types = new Map(await rs.json<[string, string]>());
    const expected = SPAN_COLUMNS.map(
      (c) => `${c} ${types.get(c)!.replace(/^LowCardinality\(String\)$/, 'String')}`,
    );
    expect(SPAN_ROWBINARY_STRUCTURE.split(', ')).toEqual(expected.join(', ').split(', '));
  });

  it('stores every edge exactly as the text insert does, in spans and every rollup', async () => {
    const batch = generate(1000, 17);
    // All of it has a binary form: the comparison below is of the binary path, not the fallback.
    expect(spanRowsRowBinary(batch)).toBeInstanceOf(Buffer);
    const s = sinks();
    const [a, b] = await Promise.all([s.txt.write(batch), s.bin.write(batch)]);
    await Promise.all([s.txt.close(), s.bin.close()]);
    expect(a.inserted).toBe(1000);
    expect(b).toEqual(a);
    const [txt, bin] = await Promise.all([dump('txt'), dump('bin')]);
    expect(Object.keys(bin)).toEqual(Object.keys(txt));
    expect(Object.keys(txt)).toEqual(expect.arrayContaining(['spans', 'usage_by_hour']));
    expect(txt.spans!.split('\n').length).toBe(1000 + 2); // names line, rows, final newline
    for (const name of Object.keys(txt)) expect([name, bin[name]]).toEqual([name, txt[name]]);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('sends values without an exact binary form as text: stored or refused as before', async () => {
    const odd: PricedSpan[] = [
      pricedSpan({ name: 'lone \ud800 surrogate' }),
      pricedSpan({ spanAttributes: { k: 'v\udc00' } }),
      pricedSpan({ inputTokens: 1.5 }),
      pricedSpan({ outputTokens: -1 }),
      pricedSpan({ resultBytes: 1e21 }),
      pricedSpan({ kind: 300 }),
      pricedSpan({ pr: 4_294_967_296 }),
      pricedSpan({ startTimeUnixNano: 9_223_372_036_854_775_808n }),
      pricedSpan({ costNanos: 9_223_372_036_854_775_808n }),
    ];
    for (const span of odd) expect(spanRowsRowBinary([span])).toBeUndefined();
    const good = generate(50, 99);
    const batch = [...good.slice(0, 25), ...odd, ...good.slice(25)];
    const s = sinks();
    const [a, b] = await Promise.all([s.txt.write(batch), s.bin.write(batch)]);
    await Promise.all([s.txt.close(), s.bin.close()]);
    const counts = (r: SinkWriteResult) => [r.inserted, r.duplicates, r.refused];
    expect(counts(b)).toEqual(counts(a));
    expect(a.refused).toBeGreaterThan(0); // the text path refuses some of them today
    expect(b.reasons).toEqual(a.reasons);
    const [txt, bin] = await Promise.all([dump('txt'), dump('bin')]);
    for (const name of Object.keys(txt)) expect([name, bin[name]]).toEqual([name, txt[name]]);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('replays a write-ahead log of text and RowBinary records, duplicates included, as the text sink stores the same spans', async () => {
    await migrateUp(client, 'wal');
    await migrateUp(client, 'ref');
    const spans = generate(40, 23);
    const [a, b, c, d] = [
      spans.slice(0, 10),
      spans.slice(10, 20),
      spans.slice(20, 30),
      spans.slice(30),
    ];
    const walDir = mkdtempSync(join(tmpdir(), 'hm-wal-rowbinary-'));
    cleanup.push(walDir);
    const { log } = await openWriteAheadLog(walDir);
    for (const record of [
      encodeSpanRecord(a),
      encodeSpanRecordBinary(b)!,
      encodeSpanRecordBinary([...a.slice(0, 3), ...c])!, // partly stored already: rows cut apart
      encodeSpanRecord([...b.slice(5), ...d]),
    ])
      await log.append(record);
    const counts = { inserted: 0, duplicates: 0, refused: 0 };
    const sink = createWalSpanSink(client, {
      db: 'wal',
      log,
      maxWaitMs: 1,
      insertFormat: { format: 'rowbinary', tempDir },
      onStored: (r) => {
        counts.inserted += r.inserted;
        counts.duplicates += r.duplicates;
        counts.refused += r.refused;
      },
    });
    await sink.flush();
    await sink.close();
    const ref = createSpanSink(client, {
      db: 'ref',
      maxSpans: 100,
      maxWaitMs: 1,
      insertFormat: { format: 'compact' },
    });
    await ref.write(spans);
    await ref.close();
    expect(counts).toEqual({ inserted: 40, duplicates: 8, refused: 0 });
    const [wal, expected] = await Promise.all([dump('wal', true), dump('ref', true)]);
    expect(expected.spans!.split('\n').length).toBe(40 + 2);
    for (const name of Object.keys(expected))
      expect([name, wal[name]]).toEqual([name, expected[name]]);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it('stores rows given as many chunks (more than one writev) as it stores them in one buffer', async () => {
    const spans = generate(1_100, 11);
    const ends: number[] = [];
    const whole = spanRowsRowBinary(spans, ends)!;
    const chunks = ends.map((end, i) => whole.subarray(i === 0 ? 0 : ends[i - 1]!, end));
    expect(chunks.length).toBeGreaterThan(1024);
    for (const [db, bytes] of [
      ['one', whole],
      ['many', chunks],
    ] as const) {
      await migrateUp(client, db);
      await insertFileRows(client, {
        table: `${db}.spans`,
        columns: SPAN_COLUMNS,
        bytes,
        structure: SPAN_ROWBINARY_STRUCTURE,
        tempDir,
      });
    }
    const [many, one] = await Promise.all([dump('many'), dump('one')]);
    expect(one.spans!.split('\n').length).toBe(1_100 + 2);
    for (const name of Object.keys(one)) expect([name, many[name]]).toEqual([name, one[name]]);
    expect(readdirSync(tempDir)).toEqual([]);
  });

  it("removes temporary files of processes that are gone, not a live process's", () => {
    const gone = join(tempDir, 'hm-insert-999999999-0a1b2c3d-7.bin');
    const mine = join(tempDir, `hm-insert-${process.pid}-0a1b2c3d-8.bin`);
    const other = join(tempDir, 'notes.bin');
    for (const f of [gone, mine, other]) writeFileSync(f, 'x');
    expect(removeStaleInsertFiles(tempDir)).toBe(1);
    expect(readdirSync(tempDir).sort()).toEqual([
      `hm-insert-${process.pid}-0a1b2c3d-8.bin`,
      'notes.bin',
    ]);
    for (const f of [mine, other]) rmSync(f);
  });

  it('removes the temporary file when the insert fails', async () => {
    const bytes = spanRowsRowBinary(generate(10, 5))!;
    await expect(
      insertFileRows(client, {
        table: 'txt.no_such_table',
        columns: SPAN_COLUMNS,
        bytes,
        structure: SPAN_ROWBINARY_STRUCTURE,
        tempDir,
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(readdirSync(tempDir)).toEqual([]);
  });
});
