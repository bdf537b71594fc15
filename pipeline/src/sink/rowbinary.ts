/**
 * Priced spans as RowBinary bytes for chDB (`INSERT … SELECT * FROM file(path, 'RowBinary', …)`):
 * the same rows as `toSpanValues` in JSONCompactEachRow, without chDB's JSON parse on its single
 * insert thread (bench/ingest-formats.js measures both). Written by hand: the ClickHouse clients on
 * npm write RowBinary for a server over HTTP only, none writes it from JS values into a buffer.
 *
 * Equality with the text path is by construction: only values whose text form ClickHouse stores
 * exactly as written here are written (times 1970..2262 in nanoseconds, non-negative safe integers
 * in their column's range, well-formed strings, string-valued maps). Any other value makes
 * `spanRowsRowBinary` return `undefined` and the caller inserts those rows as text, so they are
 * stored (or refused) exactly as before. test/integration/sink-rowbinary.test.ts compares both.
 */
import type { PricedSpan } from '../model.js';
import { SPAN_COLUMNS, nanosToDateTime64 } from './rows.js';

/** The ClickHouse types of `SPAN_COLUMNS`, in order: what the bytes below are written as. */
const SPAN_COLUMN_TYPES: Readonly<Record<string, string>> = {
  Timestamp: "DateTime64(9, 'UTC')",
  EndTimestamp: "DateTime64(9, 'UTC')",
  SpanKind: 'UInt8',
  ResourceAttributes: 'Map(LowCardinality(String), String)',
  SpanAttributes: 'Map(LowCardinality(String), String)',
  Duration: 'UInt64',
  StatusCode: 'UInt8',
  pr: 'UInt32',
  input_tokens: 'UInt64',
  output_tokens: 'UInt64',
  cache_read_tokens: 'UInt64',
  cache_write_tokens: 'UInt64',
  cache_write_5m_tokens: 'UInt64',
  cache_write_1h_tokens: 'UInt64',
  reasoning_tokens: 'UInt64',
  reported_cost_nanos: 'Nullable(Int64)',
  cost_nanos: 'Nullable(Int64)',
  input_cost_nanos: 'Nullable(Int64)',
  output_cost_nanos: 'Nullable(Int64)',
  cache_read_cost_nanos: 'Nullable(Int64)',
  cache_write_cost_nanos: 'Nullable(Int64)',
  unpriced: 'UInt8',
  result_bytes: 'UInt64',
  result_tokens: 'UInt64',
  is_error: 'UInt8',
};

/**
 * The `file()` structure of the bytes: `SPAN_COLUMNS` with their types (strings and
 * LowCardinality(String) are the same in RowBinary, so every other column is `String`).
 */
export const SPAN_ROWBINARY_STRUCTURE: string = SPAN_COLUMNS.map(
  (c) => `${c} ${SPAN_COLUMN_TYPES[c] ?? 'String'}`,
).join(', ');

/** Thrown inside the writer when a value has no exact RowBinary twin; never escapes this file. */
const NOT_EXACT = new Error('a value without an exact RowBinary form');

/** The largest nanosecond time the text path stores (2262-04-11 23:47:16.854775807, Int64 max). */
const MAX_NANOS = 9_223_372_036_854_775_807n;
const MIN_INT64 = -9_223_372_036_854_775_808n;
const TWO32 = 4_294_967_296;

/** A growing output buffer; `ensure` before each write keeps the writes unchecked. */
class Out {
  buf: Buffer;
  view: DataView;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.at + n, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }
  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.at++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.at++] = n;
  }
  str(s: unknown): void {
    if (typeof s !== 'string') throw NOT_EXACT;
    const len = s.length;
    if (len === 0) {
      this.ensure(1);
      this.buf[this.at++] = 0;
      return;
    }
    // JSON carries a lone surrogate as an escape ClickHouse refuses; UTF-8 would turn it into U+FFFD.
    // Checked before anything but plain ASCII is written (ASCII has no surrogates: most ids, names
    // and models skip the native call).
    if (len <= 42) {
      // At most 126 bytes: a one-byte length, then the text written in place. ASCII is copied
      // here: a native write per short string costs more than the loop (ids, names, models).
      this.ensure(127);
      const buf = this.buf;
      const start = this.at + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === len) {
        buf[this.at] = len;
        this.at = start + len;
        return;
      }
      if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw NOT_EXACT;
      const n = i + buf.write(s.slice(i), start + i, 'utf8');
      this.buf[this.at] = n;
      this.at += n + 1;
      return;
    }
    if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) throw NOT_EXACT;
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n + 10);
    this.varint(n);
    this.at += this.buf.write(s, this.at, 'utf8');
  }
  u8(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= 255)) throw NOT_EXACT;
    this.ensure(1);
    this.buf[this.at++] = n;
  }
  u32(n: number): void {
    if (!(Number.isInteger(n) && n >= 0 && n < TWO32)) throw NOT_EXACT;
    this.ensure(4);
    this.view.setUint32(this.at, n, true);
    this.at += 4;
  }
  u64(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) throw NOT_EXACT;
    this.ensure(8);
    this.view.setUint32(this.at, n % TWO32, true);
    this.view.setUint32(this.at + 4, Math.floor(n / TWO32), true);
    this.at += 8;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.at, v, true);
    this.at += 8;
  }
  time(nanos: bigint): void {
    if (nanos < 0n || nanos > MAX_NANOS) throw NOT_EXACT;
    this.i64(nanos);
  }
  nullableI64(v: bigint | null): void {
    this.ensure(1);
    if (v === null) {
      this.buf[this.at++] = 1;
      return;
    }
    if (typeof v !== 'bigint' || v < MIN_INT64 || v > MAX_NANOS) throw NOT_EXACT;
    this.buf[this.at++] = 0;
    this.i64(v);
  }
  map(m: Record<string, string>): void {
    if (typeof m !== 'object' || m === null) throw NOT_EXACT;
    // The count goes first; one byte is kept for it and the entries moved if it needs more.
    this.ensure(1);
    const countAt = this.at++;
    let count = 0;
    for (const k in m) {
      this.str(k);
      this.str(m[k]);
      count++;
    }
    if (count < 0x80) {
      this.buf[countAt] = count;
      return;
    }
    let extra = 0;
    for (let c = count; c >= 0x80; c = Math.floor(c / 128)) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, countAt + 1 + extra, countAt + 1, this.at);
    const end = this.at + extra;
    this.at = countAt;
    this.varint(count);
    this.at = end;
  }
}

function writeSpan(o: Out, s: PricedSpan): void {
  o.time(s.startTimeUnixNano);
  o.time(s.endTimeUnixNano);
  o.str(s.traceId);
  o.str(s.spanId);
  o.str(s.parentSpanId);
  o.str(s.name);
  o.u8(s.kind);
  o.str(s.serviceName);
  o.str(s.scopeName);
  o.map(s.resourceAttributes);
  o.map(s.spanAttributes);
  const duration =
    s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano - s.startTimeUnixNano : 0n;
  o.i64(duration);
  o.u8(s.statusCode);
  o.str(s.statusMessage);
  o.str(s.spanType);
  o.str(s.operation);
  o.str(s.provider);
  o.str(s.requestModel);
  o.str(s.responseModel);
  o.str(s.responseModel || s.requestModel);
  o.str(s.sessionId);
  o.str(s.developer);
  o.str(s.team);
  o.str(s.repo);
  o.str(s.branch);
  o.str(s.commit);
  o.u32(s.pr);
  o.str(s.intent);
  o.str(s.source);
  o.str(s.keyId ?? '');
  o.u64(s.inputTokens);
  o.u64(s.outputTokens);
  o.u64(s.cacheReadTokens);
  o.u64(s.cacheWriteTokens);
  o.u64(s.cacheWrite5mTokens);
  o.u64(s.cacheWrite1hTokens);
  o.u64(s.reasoningTokens);
  o.nullableI64(s.reportedCostNanos);
  o.str(s.usageCheck ?? '');
  o.str(s.priceId);
  o.nullableI64(s.costNanos);
  o.nullableI64(s.inputCostNanos);
  o.nullableI64(s.outputCostNanos);
  o.nullableI64(s.cacheReadCostNanos);
  o.nullableI64(s.cacheWriteCostNanos);
  o.u8(s.unpriced ? 1 : 0);
  o.str(s.toolName);
  o.str(s.toolCallId);
  o.str(s.toolClass);
  o.str(s.argsHash);
  o.str(s.targetHash);
  o.u64(s.resultBytes);
  o.u64(s.resultTokens);
  o.u8(s.isError ? 1 : 0);
}

/**
 * The spans as RowBinary rows in `SPAN_COLUMNS` order (structure `SPAN_ROWBINARY_STRUCTURE`), or
 * `undefined` when a value would not be stored exactly as the JSONCompactEachRow text stores it
 * (then insert these spans as text).
 */
export function spanRowsRowBinary(
  spans: readonly PricedSpan[],
  /** When given, receives each row's end offset in the bytes (rows can then be cut apart). */
  rowEnds?: number[],
  /** Bytes left free before the first row (a caller's header). @default 0 */
  headroom = 0,
): Buffer | undefined {
  const o = new Out(Math.max(4096, headroom + spans.length * 1024));
  o.at = headroom;
  try {
    for (const s of spans) {
      writeSpan(o, s);
      rowEnds?.push(o.at - headroom);
    }
  } catch (err) {
    if (err === NOT_EXACT) return undefined;
    throw err;
  }
  // A large spare tail would stay allocated as long as the caller keeps the bytes.
  return o.at < o.buf.length * 0.75
    ? Buffer.from(o.buf.subarray(0, o.at))
    : o.buf.subarray(0, o.at);
}

/** Column kinds in `SPAN_COLUMNS` order, for reading a row back. */
const READ_KINDS: readonly string[] = SPAN_COLUMNS.map((c) => SPAN_COLUMN_TYPES[c] ?? 'String');

/**
 * One row written by `spanRowsRowBinary`, read back as the values `toSpanValues` gives (for a
 * refused row's dead-letter sample: rare, so written for clarity, not speed). Throws on bytes that
 * are not exactly one such row.
 */
export function rowBinaryToSpanValues(row: Uint8Array): unknown[] {
  const buf = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  let at = 0;
  const varint = (): number => {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = buf[at++];
      if (b === undefined) throw new Error('RowBinary row cut short');
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      shift *= 128;
    }
  };
  const str = (): string => {
    const n = varint();
    if (at + n > buf.length) throw new Error('RowBinary row cut short');
    const s = buf.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const i64 = (): bigint => {
    const v = buf.readBigInt64LE(at);
    at += 8;
    return v;
  };
  const values: unknown[] = [];
  for (const kind of READ_KINDS) {
    switch (kind) {
      case "DateTime64(9, 'UTC')":
        values.push(nanosToDateTime64(i64()));
        break;
      case 'UInt8':
        values.push(buf.readUInt8(at++));
        break;
      case 'UInt32':
        values.push(buf.readUInt32LE(at));
        at += 4;
        break;
      case 'UInt64': {
        const v = buf.readBigUInt64LE(at);
        at += 8;
        values.push(v > BigInt(Number.MAX_SAFE_INTEGER) ? v.toString() : Number(v));
        break;
      }
      case 'Nullable(Int64)':
        values.push(buf[at++] === 1 ? null : i64().toString());
        break;
      case 'Map(LowCardinality(String), String)': {
        const m: Record<string, string> = {};
        for (let n = varint(); n > 0; n--) {
          const k = str();
          m[k] = str();
        }
        values.push(m);
        break;
      }
      default:
        values.push(str());
    }
  }
  if (at !== buf.length) throw new Error('RowBinary row longer than one spans row');
  // Duration is text in toSpanValues (a UInt64 beyond 2^53 must not pass through a float).
  const d = SPAN_COLUMNS.indexOf('Duration');
  values[d] = String(values[d]);
  return values;
}
