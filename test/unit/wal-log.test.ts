import { mkdtempSync, readdirSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrame, FRAME_HEADER_BYTES } from '../../pipeline/src/wal/frame.js';
import { openWriteAheadLog } from '../../pipeline/src/wal/log.js';
import {
  decodeSpanRecord,
  encodeSpanRecord,
  encodeSpanRecordBinary,
  recordRows,
  splitRows,
} from '../../pipeline/src/sink/wal-records.js';
import { rowBinaryToSpanValues, spanRowsRowBinary } from '../../pipeline/src/sink/rowbinary.js';
import { toSpanValues } from '../../pipeline/src/sink/rows.js';
import { pricedSpan } from '../helpers/spans.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'hm-wal-unit-'));
const text = (b: Buffer): string => b.toString('utf8');

describe('write-ahead log framing', () => {
  it('reads back whole frames and stops before a torn or corrupt one', () => {
    const a = encodeFrame(Buffer.from('first'));
    const b = encodeFrame(Buffer.from('second record'));
    const whole = Buffer.concat([a, b]);
    const all = decodeFrames(whole);
    expect(all.stop).toBe('end');
    expect(all.frames.map((f) => text(f.payload))).toEqual(['first', 'second record']);

    // Torn: the second frame cut anywhere inside is dropped, the first kept.
    for (const cut of [1, FRAME_HEADER_BYTES - 1, FRAME_HEADER_BYTES + 3]) {
      const torn = decodeFrames(whole.subarray(0, a.length + cut));
      expect(torn.stop).toBe('short');
      expect(torn.end).toBe(a.length);
      expect(torn.frames.map((f) => text(f.payload))).toEqual(['first']);
    }
    // Corrupt: one payload byte flipped fails the checksum.
    const bad = Buffer.from(whole);
    bad[a.length + FRAME_HEADER_BYTES + 2]! ^= 0xff;
    const corrupt = decodeFrames(bad);
    expect(corrupt.stop).toBe('corrupt');
    expect(corrupt.frames).toHaveLength(1);
  });
});

describe('span records', () => {
  it('keep the ids and the exact insert rows of a request', () => {
    const spans = [pricedSpan({ costNanos: 123n }), pricedSpan({ statusMessage: 'a\nb' })];
    const rec = decodeSpanRecord(encodeSpanRecord(spans));
    expect(rec.refs).toEqual(spans.map((s) => ({ traceId: s.traceId, spanId: s.spanId })));
    const lines = splitRows(rec.rows).map((l) => JSON.parse(text(l)) as unknown);
    expect(lines).toEqual(spans.map((s) => JSON.parse(JSON.stringify(toSpanValues(s))) as unknown));
  });

  it('keep RowBinary rows with their lengths, each the bytes the writer gives that span alone', () => {
    const spans = [
      pricedSpan({ costNanos: 123n, spanAttributes: { a: 'é'.repeat(100) } }),
      pricedSpan({ statusMessage: 'a\nb', resourceAttributes: { '7': 'x', k: '' } }),
      pricedSpan({ name: 'x'.repeat(300), inputTokens: 2 ** 40, reportedCostNanos: -5n }),
    ];
    const payload = encodeSpanRecordBinary(spans)!;
    const rec = decodeSpanRecord(payload);
    expect(rec.format).toBe('rowbinary');
    expect(rec.refs).toEqual(spans.map((s) => ({ traceId: s.traceId, spanId: s.spanId })));
    expect(rec.rows.equals(spanRowsRowBinary(spans)!)).toBe(true);
    expect(recordRows(rec)).toEqual(spans.map((s) => spanRowsRowBinary([s])));
    // A text record reads as before.
    expect(decodeSpanRecord(encodeSpanRecord(spans)).format).toBe('compact');
    // A value without an exact binary form: no binary record (the caller logs text).
    expect(encodeSpanRecordBinary([pricedSpan({ name: 'lone \ud800' })])).toBeUndefined();
    // A row read back (a refused row's dead-letter sample) gives the text row's values.
    for (const [i, row] of recordRows(rec).entries())
      expect(rowBinaryToSpanValues(row)).toEqual(
        JSON.parse(JSON.stringify(toSpanValues(spans[i]!))) as unknown,
      );
    expect(() =>
      rowBinaryToSpanValues(Buffer.concat([recordRows(rec)[0]!, Buffer.from([0])])),
    ).toThrow(/longer than one/);
    // Lengths that do not add up to the record are refused.
    expect(() => decodeSpanRecord(payload.subarray(0, payload.length - 1))).toThrow(/do not fill/);
  });

  it('refuses a payload that is not a span record', () => {
    expect(() => decodeSpanRecord(Buffer.from('{"a":1}\n'))).toThrow(/trace and span id/);
    expect(() => decodeSpanRecord(Buffer.from('no newline'))).toThrow(/ids line/);
  });
});

describe('write-ahead log on disk', () => {
  it('group-commits appends, reads from a position, and cuts segments below the checkpoint', async () => {
    const dir = tempDir();
    const { log } = await openWriteAheadLog(dir, { segmentBytes: 64 });
    const payloads = Array.from({ length: 12 }, (_, i) => Buffer.from(`record-${i}-`.repeat(3)));
    const ends = await Promise.all(payloads.map((p) => log.append(p)));
    expect(ends).toEqual([...ends].sort((x, y) => x - y));
    expect(log.durableEnd).toBe(ends.at(-1));
    // One group of 12 appends went into one segment: the next append starts a new one.
    await log.append(Buffer.from('after'));
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal'))).toHaveLength(2);

    const got: string[] = [];
    let at = 0;
    for (;;) {
      const r = await log.read(at, 50);
      if (r.records.length === 0) break;
      got.push(...r.records.map(text));
      at = r.next;
    }
    expect(got).toEqual([...payloads.map(text), 'after']);
    expect(at).toBe(log.durableEnd);

    await log.commit(ends.at(-1)!);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal'))).toHaveLength(1);
    await log.close();

    const reopened = await openWriteAheadLog(dir, { segmentBytes: 64 });
    expect(reopened.droppedBytes).toBe(0);
    expect(reopened.log.checkpoint).toBe(ends.at(-1));
    const rest = await reopened.log.read(reopened.log.checkpoint, 1 << 20);
    expect(rest.records.map(text)).toEqual(['after']);
    await reopened.log.close();
  });

  it('reads the same records from its memory cache as from the files, and the files past the cache', async () => {
    const payloads = Array.from({ length: 30 }, (_, i) =>
      Buffer.from(`rec${i}-`.repeat(1 + (i % 7))),
    );
    /** Appends every payload (in groups), then reads them all back in reads of `size` bytes. */
    const run = async (cacheBytes: number, size: number) => {
      const dir = tempDir();
      const { log } = await openWriteAheadLog(dir, { segmentBytes: 200, cacheBytes });
      for (let i = 0; i < payloads.length; i += 4)
        await Promise.all(payloads.slice(i, i + 4).map((p) => log.append(p)));
      const reads: { records: string[]; next: number }[] = [];
      for (let at = log.checkpoint; at < log.durableEnd;) {
        const r = await log.read(at, size);
        reads.push({ records: r.records.map(text), next: r.next });
        at = r.next;
      }
      return { dir, log, reads };
    };
    for (const size of [1, 40, 1 << 20]) {
      const files = await run(0, size);
      expect(files.reads.flatMap((r) => r.records)).toEqual(payloads.map(text));
      for (const cacheBytes of [60, 1 << 20]) {
        const cached = await run(cacheBytes, size);
        // The same records in order (a read from memory may go on past a segment's end).
        expect(cached.reads.flatMap((r) => r.records)).toEqual(payloads.map(text));
        expect(cached.reads.at(-1)!.next).toBe(files.reads.at(-1)!.next);
        for (const r of cached.reads) {
          expect(r.records.length).toBeGreaterThan(0);
          if (r.records.length > 1)
            expect(r.records.reduce((n, x) => n + Buffer.byteLength(x), 0)).toBeLessThanOrEqual(
              size,
            );
        }
        await cached.log.close();
      }
      await files.log.close();
    }
    // Served from memory: the files damaged under a log with a cache still read back whole, and a
    // commit drops what it covers (a later read goes to the files, now damaged, and fails).
    const { dir, log } = await run(1 << 20, 1 << 20);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.wal')))
      writeFileSync(join(dir, f), Buffer.alloc(readFileSync(join(dir, f)).length, 0xff));
    const all = await log.read(0, 1 << 20);
    expect(all.records.map(text)).toEqual(payloads.map(text));
    const firstEnd = (await log.read(0, 1)).next;
    await log.commit(firstEnd);
    await expect(log.read(0, 1)).rejects.toThrow();
    expect((await log.read(firstEnd, 1)).records.map(text)).toEqual([text(payloads[1]!)]);
    await log.close();
  });

  it('drops a torn last record on open and appends after the last whole one', async () => {
    const dir = tempDir();
    const { log } = await openWriteAheadLog(dir);
    await log.append(Buffer.from('one'));
    const end = await log.append(Buffer.from('two'));
    await log.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    // A crash in the middle of writing a third record: its header and part of its payload.
    appendFileSync(
      join(dir, segment!),
      encodeFrame(Buffer.from('three, never acknowledged')).subarray(0, 14),
    );

    const reopened = await openWriteAheadLog(dir);
    expect(reopened.droppedBytes).toBe(14);
    expect(reopened.log.durableEnd).toBe(end);
    await reopened.log.append(Buffer.from('four'));
    const all = await reopened.log.read(0, 1 << 20);
    expect(all.records.map(text)).toEqual(['one', 'two', 'four']);
    await reopened.log.close();
    expect(readFileSync(join(dir, segment!)).length).toBe(all.next);
  });

  it('reads a record larger than the read size whole', async () => {
    const dir = tempDir();
    const { log } = await openWriteAheadLog(dir);
    const big = Buffer.alloc(10_000, 'x');
    await log.append(big);
    await log.append(Buffer.from('small'));
    const first = await log.read(0, 100);
    expect(first.records.map((r) => r.length)).toEqual([10_000]);
    const second = await log.read(first.next, 100);
    expect(second.records.map(text)).toEqual(['small']);
    await log.close();
  });

  it('starts after the checkpoint when the segments below it are gone', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ position: 4096 }));
    const { log } = await openWriteAheadLog(dir);
    expect(log.checkpoint).toBe(4096);
    const end = await log.append(Buffer.from('x'));
    expect(end).toBe(4096 + FRAME_HEADER_BYTES + 1);
    expect((await log.read(4096, 100)).records.map(text)).toEqual(['x']);
    await log.close();
  });
});
