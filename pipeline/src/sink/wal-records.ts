/**
 * What the ingest write-ahead log keeps per request: the insert payload itself, so the drain never
 * decodes or prices again. A record is UTF-8 text: one line with the span ids as a JSON array
 * `[traceId0, spanId0, traceId1, spanId1, ...]` (the dedup keys), then one JSONCompactEachRow line
 * per span in `SPAN_COLUMNS` order (JSON escapes newlines, so a row is exactly one line).
 */
import { compactRowsBytes } from '@harness-meter/queries';
import type { PricedSpan } from '../model.js';
import type { SpanRef } from './dedup.js';
import { toSpanValues } from './rows.js';

/** The record of one request's priced spans. */
export function encodeSpanRecord(spans: readonly PricedSpan[]): Buffer {
  const ids: string[] = [];
  for (const s of spans) ids.push(s.traceId, s.spanId);
  return compactRowsBytes(spans, toSpanValues, JSON.stringify(ids) + '\n');
}

/** A record read back: the spans' ids and their rows (lines, each ending in '\n'). */
export interface SpanRecordRows {
  refs: SpanRef[];
  rows: Buffer;
}

/** Reads a record written by `encodeSpanRecord`; throws on anything else. */
export function decodeSpanRecord(payload: Buffer): SpanRecordRows {
  const nl = payload.indexOf(10);
  if (nl < 0) throw new Error('WAL span record without its ids line');
  const ids = JSON.parse(payload.toString('utf8', 0, nl)) as unknown;
  if (!Array.isArray(ids) || ids.length % 2 !== 0 || !ids.every((v) => typeof v === 'string'))
    throw new Error('WAL span record: the ids line is not a list of trace and span id pairs');
  const refs: SpanRef[] = [];
  for (let i = 0; i < ids.length; i += 2)
    refs.push({ traceId: ids[i] as string, spanId: ids[i + 1] as string });
  return { refs, rows: payload.subarray(nl + 1) };
}

/** The rows of a record one by one (each without its '\n'), in the order of its refs. */
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
