/**
 * What the ingest write-ahead log keeps per request: the insert payload itself, so the drain never
 * decodes or prices again. Two record forms:
 *
 * - text (the first form, still read and written when RowBinary is off or cannot hold a value):
 *   UTF-8, one line with the span ids as a JSON array `[traceId0, spanId0, traceId1, spanId1, ...]`
 *   (the dedup keys), then one JSONCompactEachRow line per span in `SPAN_COLUMNS` order (JSON
 *   escapes newlines, so a row is exactly one line);
 * - RowBinary (HM_CHDB_INSERT_FORMAT=rowbinary): a 0x01 byte, the same ids line, then the number of
 *   rows and each row's byte length (uint32 little-endian), then the rows as `spanRowsRowBinary`
 *   writes them. The drain inserts these bytes as they are, so a replay stores exactly what the
 *   first attempt would have. A text record starts with `[`, so the first byte tells them apart.
 */
import { compactRowsBytes } from '@harness-meter/queries';
import type { PricedSpan } from '../model.js';
import type { SpanRef } from './dedup.js';
import { spanRowsRowBinary } from './rowbinary.js';
import { toSpanValues } from './rows.js';

const BINARY_MARK = 0x01;

/** The text record of one request's priced spans. */
export function encodeSpanRecord(spans: readonly PricedSpan[]): Buffer {
  const ids: string[] = [];
  for (const s of spans) ids.push(s.traceId, s.spanId);
  return compactRowsBytes(spans, toSpanValues, JSON.stringify(ids) + '\n');
}

/**
 * The RowBinary record of one request's priced spans, or `undefined` when a value has no exact
 * RowBinary form (then write the text record).
 */
export function encodeSpanRecordBinary(spans: readonly PricedSpan[]): Buffer | undefined {
  const ids: string[] = [];
  for (const s of spans) ids.push(s.traceId, s.spanId);
  const idsLine = Buffer.from(JSON.stringify(ids) + '\n', 'utf8');
  const header = 1 + idsLine.length + 4 + 4 * spans.length;
  const ends: number[] = [];
  const out = spanRowsRowBinary(spans, ends, header);
  if (out === undefined) return undefined;
  out[0] = BINARY_MARK;
  idsLine.copy(out, 1);
  let at = 1 + idsLine.length;
  out.writeUInt32LE(spans.length, at);
  at += 4;
  let prev = 0;
  for (const end of ends) {
    out.writeUInt32LE(end - prev, at);
    at += 4;
    prev = end;
  }
  return out;
}

/** A record read back: the spans' ids and their rows, in the record's format. */
export interface SpanRecordRows {
  refs: SpanRef[];
  /** Text: JSONCompactEachRow lines, each ending in '\n'. RowBinary: the rows back to back. */
  rows: Buffer;
  format: 'compact' | 'rowbinary';
  /** RowBinary only: each row's byte length, in the order of `refs`. */
  rowLengths?: number[];
}

/** Reads a record written by `encodeSpanRecord` or `encodeSpanRecordBinary`; throws on anything else. */
export function decodeSpanRecord(payload: Buffer): SpanRecordRows {
  const binary = payload[0] === BINARY_MARK;
  const from = binary ? 1 : 0;
  const nl = payload.indexOf(10, from);
  if (nl < 0) throw new Error('WAL span record without its ids line');
  const ids = JSON.parse(payload.toString('utf8', from, nl)) as unknown;
  if (!Array.isArray(ids) || ids.length % 2 !== 0 || !ids.every((v) => typeof v === 'string'))
    throw new Error('WAL span record: the ids line is not a list of trace and span id pairs');
  const refs: SpanRef[] = [];
  for (let i = 0; i < ids.length; i += 2)
    refs.push({ traceId: ids[i] as string, spanId: ids[i + 1] as string });
  if (!binary) return { refs, rows: payload.subarray(nl + 1), format: 'compact' };
  let at = nl + 1;
  const count = payload.readUInt32LE(at);
  at += 4;
  if (count !== refs.length)
    throw new Error(`WAL span record: ${count} RowBinary rows for ${refs.length} span ids`);
  const rowLengths: number[] = [];
  let total = 0;
  for (let i = 0; i < count; i++, at += 4) {
    const n = payload.readUInt32LE(at);
    rowLengths.push(n);
    total += n;
  }
  if (at + total !== payload.length)
    throw new Error('WAL span record: the RowBinary rows do not fill the record');
  return { refs, rows: payload.subarray(at), format: 'rowbinary', rowLengths };
}

/** The rows of a record one by one (text rows without their '\n'), in the order of its refs. */
export function recordRows(r: Pick<SpanRecordRows, 'rows' | 'rowLengths'>): Buffer[] {
  if (r.rowLengths !== undefined) {
    const out: Buffer[] = [];
    let at = 0;
    for (const n of r.rowLengths) {
      out.push(r.rows.subarray(at, at + n));
      at += n;
    }
    return out;
  }
  return splitRows(r.rows);
}

/** The rows of a text record one by one (each without its '\n'), in the order of its refs. */
export function splitRows(rows: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let at = 0;
  while (at < rows.length) {
    const nl = rows.indexOf(10, at);
    const end = nl < 0 ? rows.length : nl;
    lines.push(rows.subarray(at, end));
    at = end + 1;
  }
  return lines;
}
