/**
 * cost-per-pr's rows straight from the report's TabSeparatedWithNames text: one pass that builds each
 * output row as it reads its cells, numbers read from the characters (no cell strings for the counts)
 * and dollars from the nano-dollar digits without a BigInt while they stay below 2^53. At 15,000 rows
 * the generic path (parseTsvWithNames into string rows, then a conversion per row) allocated 19 cell
 * strings and an intermediate object per row and ran BigInt twice per money column; see
 * bench/cost-per-pr.js for the split. The result is exactly the generic path's (test/unit/
 * cost-per-pr-rows.test.ts compares them on generated rows; prelink.test.ts compares the report with
 * the links computed in the query, read as JSONEachRow).
 */
import { StoreError } from './errors.js';
import { formatUsd } from './money.js';
import type { CostPerPrRow } from './reports.js';
import { unescapeTsvField } from './tsv.js';

/** The columns cost_per_pr.sql and cost_per_pr_totals.sql return, in their order. */
export const COST_PER_PR_COLUMNS = [
  'repo',
  'pr',
  'sessions',
  'llm_calls',
  'tool_calls',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_nanos',
  'unpriced_calls',
  'wasted_tokens',
  'wasted_cost_nanos',
  'first_seen',
  'last_seen',
  'rules',
  'state',
  'merged_at',
] as const;

const HEADER = COST_PER_PR_COLUMNS.join('\t');
const MINUS = 45;
const ZERO = 48;
/** Up to 15 digits a decimal integer is exact as a double (10^15 < 2^53). */
const EXACT_DIGITS = 15;

/** Reading position in the text; one per call (no closures per row). */
interface Cursor {
  pos: number;
  /** End of the cell just read (exclusive). */
  end: number;
}

/** Moves past the next cell (ended by a tab, or at the row's end by a newline or the text's end). */
function nextCell(text: string, c: Cursor, last: boolean): void {
  let end = text.indexOf(last ? '\n' : '\t', c.pos);
  if (end === -1) end = text.length;
  c.end = end;
}

/**
 * The cell [start, end) as `Number(cell)` gives it, NULL (`\N`) as 0: what `num()` of the generic
 * path returns. Digits are summed directly (exact up to 15); anything else goes through Number.
 */
function intCell(text: string, start: number, end: number): number {
  const neg = start < end && text.charCodeAt(start) === MINUS;
  const from = neg ? start + 1 : start;
  if (end - from <= EXACT_DIGITS && end > from) {
    let v = 0;
    for (let i = from; i < end; i++) {
      const d = text.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) return slowInt(text.slice(start, end));
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  return slowInt(text.slice(start, end));
}

const TAB = 9;

/**
 * The next cell, not the row's last, read as intCell reads it, and the cursor moved past it. The
 * digits are summed while scanning for the cell's end (no indexOf per cell); a cell that is not
 * 1-15 digits (with an optional '-') ended by a tab goes through nextCell and intCell.
 */
function intNext(text: string, c: Cursor): number {
  const start = c.pos;
  const neg = text.charCodeAt(start) === MINUS;
  const from = neg ? start + 1 : start;
  let i = from;
  let v = 0;
  for (;;) {
    const d = text.charCodeAt(i) - ZERO; // NaN past the end: not a digit
    if (!(d >= 0 && d <= 9)) break;
    v = v * 10 + d;
    i++;
  }
  if (i > from && i - from <= EXACT_DIGITS && text.charCodeAt(i) === TAB) {
    c.end = i;
    c.pos = i + 1;
    return neg ? -v : v;
  }
  nextCell(text, c, false);
  const out = intCell(text, start, c.end);
  c.pos = c.end + 1;
  return out;
}

function slowInt(cell: string): number {
  const v = unescapeTsvField(cell);
  return v === null ? 0 : Number(v);
}

/** A nano-dollar cell's canonical decimal text and its dollars, as the generic path gives them. */
interface Money {
  nanos: string;
  usd: number;
}

/**
 * `BigInt(cell).toString()` and `nanosToUsdNumber(BigInt(cell))`, without a BigInt when the cell is
 * canonical (what ClickHouse prints: no leading zeros or sign but '-') and at most 15 digits: then the
 * cell is its own canonical text and its value is exact as a double, so value / 1e9 is the same
 * correctly rounded quotient nanosToUsdNumber computes.
 */
function moneyCell(text: string, start: number, end: number): Money {
  const neg = start < end && text.charCodeAt(start) === MINUS;
  const from = neg ? start + 1 : start;
  const digits = end - from;
  if (digits > 0 && digits <= EXACT_DIGITS && (digits === 1 || text.charCodeAt(from) !== ZERO)) {
    let v = 0;
    let ok = true;
    for (let i = from; i < end; i++) {
      const d = text.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) {
        ok = false;
        break;
      }
      v = v * 10 + d;
    }
    // '-0' is not canonical (BigInt('-0').toString() === '0').
    if (ok && !(neg && v === 0))
      return { nanos: text.slice(start, end), usd: (neg ? -v : v) / 1e9 };
  }
  const n = BigInt(unescapeTsvField(text.slice(start, end)) ?? 0);
  return { nanos: n.toString(), usd: usdOf(n) };
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER) + 1n;
function usdOf(n: bigint): number {
  return n >= -MAX_EXACT && n <= MAX_EXACT ? Number(n) / 1e9 : Number(formatUsd(n));
}

function textCell(text: string, start: number, end: number): string | null {
  return unescapeTsvField(text.slice(start, end));
}

function stateOf(pr: number | null, state: string | null): CostPerPrRow['state'] {
  if (pr === null) return null;
  return state === 'open' || state === 'merged' || state === 'closed' ? state : 'unknown';
}

/**
 * cost-per-pr rows from the report's TabSeparatedWithNames text (columns COST_PER_PR_COLUMNS).
 * @throws StoreError QUERY_FAILED when the header differs: the SQL and this reader disagree.
 */
export function readCostPerPrTsv(text: string): CostPerPrRow[] {
  const len = text.length;
  if (len === 0) return [];
  let nl = text.indexOf('\n');
  if (nl === -1) nl = len;
  if (text.slice(0, nl) !== HEADER)
    throw new StoreError(
      'QUERY_FAILED',
      `cost-per-pr returned the columns ${JSON.stringify(text.slice(0, nl).split('\t'))}, not ` +
        `${JSON.stringify(COST_PER_PR_COLUMNS)}: the report SQL and its reader (cost-per-pr-rows.ts) disagree.`,
    );
  const out: CostPerPrRow[] = [];
  const c: Cursor = { pos: nl + 1, end: 0 };
  while (c.pos < len) {
    nextCell(text, c, false);
    const repo = textCell(text, c.pos, c.end) ?? '';
    c.pos = c.end + 1;
    const prNum = intNext(text, c);
    const pr = prNum === 0 ? null : prNum;
    const sessions = intNext(text, c);
    const llmCalls = intNext(text, c);
    const toolCalls = intNext(text, c);
    const input = intNext(text, c);
    const output = intNext(text, c);
    const cacheRead = intNext(text, c);
    const cacheWrite = intNext(text, c);
    const reasoning = intNext(text, c);
    nextCell(text, c, false);
    const cost = moneyCell(text, c.pos, c.end);
    c.pos = c.end + 1;
    const unpriced = intNext(text, c);
    const wastedTokens = intNext(text, c);
    nextCell(text, c, false);
    const wasted = moneyCell(text, c.pos, c.end);
    c.pos = c.end + 1;
    nextCell(text, c, false);
    const firstSeen = textCell(text, c.pos, c.end) ?? '';
    c.pos = c.end + 1;
    nextCell(text, c, false);
    const lastSeen = textCell(text, c.pos, c.end) ?? '';
    c.pos = c.end + 1;
    nextCell(text, c, false);
    const rules = textCell(text, c.pos, c.end) ?? '';
    c.pos = c.end + 1;
    nextCell(text, c, false);
    const state = stateOf(pr, textCell(text, c.pos, c.end));
    c.pos = c.end + 1;
    nextCell(text, c, true);
    const mergedAt = textCell(text, c.pos, c.end);
    c.pos = c.end + 1;
    out.push({
      repo,
      pr,
      sessions,
      llm_calls: llmCalls,
      tool_calls: toolCalls,
      input_tokens: input,
      output_tokens: output,
      cache_read_tokens: cacheRead,
      cache_write_tokens: cacheWrite,
      reasoning_tokens: reasoning,
      cost_nanos: cost.nanos,
      cost_usd: cost.usd,
      unpriced_calls: unpriced,
      wasted_tokens: wastedTokens,
      wasted_cost_nanos: wasted.nanos,
      wasted_cost_usd: wasted.usd,
      first_seen: firstSeen,
      last_seen: lastSeen,
      rules,
      state,
      merged_at: mergedAt,
    });
  }
  return out;
}

/**
 * The column types of cost_per_pr_totals.sql's rows as RowBinaryWithNamesAndTypes sends them: counts
 * as integers, money as Int64 nano-dollars, hours as DateTime, the rules as their bits, the state as
 * a code (1 open, 2 merged, 3 closed, else 0), merged_at as it is stored. chDB formats no text and
 * the reader parses none but the repository's name (see readCostPerPrRowBinary).
 */
export const COST_PER_PR_BINARY_TYPES = [
  'String',
  'UInt32',
  'UInt64',
  'UInt64',
  'UInt64',
  'UInt64',
  'UInt64',
  'UInt64',
  'UInt64',
  'UInt64',
  'Int64',
  'Int64',
  'UInt64',
  'Int64',
  "DateTime('UTC')",
  "DateTime('UTC')",
  'UInt8',
  'UInt8',
  "Nullable(DateTime64(3, 'UTC'))",
] as const;

/** The linkage rules in bit order (bit i of rule_bits), as cost_per_pr.sql's text lists them. */
const RULE_NAMES = ['branch', 'commit', 'explicit', 'trailer', 'unattributed'];
/** `rules` for each value of rule_bits: the names of its set bits (of the first five), in bit order. */
const RULES_BY_BITS = Array.from({ length: 256 }, (_v, bits) =>
  RULE_NAMES.filter((_n, i) => (bits & (1 << i)) !== 0).join(','),
);
const STATE_BY_CODE: readonly CostPerPrRow['state'][] = ['unknown', 'open', 'merged', 'closed'];
const TWO_32 = 4_294_967_296;
/** Money beyond ±2^53 nano-dollars take the BigInt path (2^21 · 2^32 = 2^53). */
const SAFE_HIGH = 2_097_152;

/** Reading position in the bytes; one per call (no closures per row). */
interface ByteCursor {
  pos: number;
}

function binaryError(why: string): StoreError {
  return new StoreError(
    'QUERY_FAILED',
    `cost-per-pr's binary result ${why}: the report SQL and its reader (cost-per-pr-rows.ts) disagree.`,
  );
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 16_777_216;
}

function i32(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
}

/** UInt64 as `Number(decimal text)` gives it: lo + hi · 2^32, both exact, rounded once. */
function u64(b: Uint8Array, c: ByteCursor): number {
  const v = u32(b, c.pos) + u32(b, c.pos + 4) * TWO_32;
  c.pos += 8;
  return v;
}

/** Int64 as `Number(decimal text)` gives it (the high word signed). */
function i64(b: Uint8Array, c: ByteCursor): number {
  const v = u32(b, c.pos) + i32(b, c.pos + 4) * TWO_32;
  c.pos += 8;
  return v;
}

/** An Int64 of nano-dollars as moneyCell gives its decimal text: exact through a double below 2^53. */
function moneyBin(b: Uint8Array, c: ByteCursor): Money {
  const lo = u32(b, c.pos);
  const hi = i32(b, c.pos + 4);
  c.pos += 8;
  if (hi >= -SAFE_HIGH && hi < SAFE_HIGH) {
    const v = lo + hi * TWO_32;
    return { nanos: String(v), usd: v / 1e9 };
  }
  const n = (BigInt(hi) << 32n) + BigInt(lo);
  return { nanos: n.toString(), usd: usdOf(n) };
}

/** LEB128 length of a String (or a count in the header). */
function varUInt(b: Uint8Array, c: ByteCursor): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[c.pos++];
    if (x === undefined) throw binaryError('ends inside a length');
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
}

const utf8 = new TextDecoder();

/**
 * Strings read so far in one call, keyed by length and first and last byte, each checked byte for
 * byte: a report's repository names repeat on every row of their PRs.
 */
type StringMemo = Map<number, { bytes: Uint8Array; text: string }[]>;

function stringBin(b: Uint8Array, c: ByteCursor, memo: StringMemo): string {
  const n = varUInt(b, c);
  const start = c.pos;
  const end = start + n;
  if (end > b.length) throw binaryError('ends inside a string');
  c.pos = end;
  if (n === 0) return '';
  const key = n * 65_536 + b[start]! * 256 + b[end - 1]!;
  const seen = memo.get(key);
  if (seen !== undefined)
    for (const e of seen) {
      let i = 0;
      while (i < n && e.bytes[i] === b[start + i]) i++;
      if (i === n) return e.text;
    }
  const bytes = b.slice(start, end);
  const text = utf8.decode(bytes);
  if (seen === undefined) memo.set(key, [{ bytes, text }]);
  else if (seen.length < 8) seen.push({ bytes, text });
  return text;
}

const DAY_MS = 86_400_000;
const D0 = 48; // '0'

/** The character codes of 'YYYY-MM-DD' of the UTC day `day` (days since 1970), memoized per call. */
function dayCodes(day: number, memo: Map<number, number[]>): number[] {
  let codes = memo.get(day);
  if (codes === undefined) {
    const iso = new Date(day * DAY_MS).toISOString();
    codes = Array.from({ length: 10 }, (_v, i) => iso.charCodeAt(i));
    memo.set(day, codes);
  }
  return codes;
}

/**
 * 'YYYY-MM-DD hh:mm:ss' (with `millis`, '.mmm' too) of a UTC time in ms (1900-2299), what toString of
 * a DateTime('UTC') or DateTime64(3, 'UTC') gives: one flat string from its character codes (a
 * template literal would make a rope of eight pieces per value, which GC then pays for).
 */
function timeText(ms: number, millis: boolean, days: Map<number, number[]>): string {
  const day = Math.floor(ms / DAY_MS);
  const t = ms - day * DAY_MS;
  const sec = Math.floor(t / 1000);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec - h * 3600) / 60);
  const s = sec - h * 3600 - m * 60;
  const d = dayCodes(day, days);
  const h0 = D0 + Math.floor(h / 10);
  const h1 = D0 + (h % 10);
  const m0 = D0 + Math.floor(m / 10);
  const m1 = D0 + (m % 10);
  const s0 = D0 + Math.floor(s / 10);
  const s1 = D0 + (s % 10);
  if (!millis)
    return String.fromCharCode(
      d[0]!,
      d[1]!,
      d[2]!,
      d[3]!,
      d[4]!,
      d[5]!,
      d[6]!,
      d[7]!,
      d[8]!,
      d[9]!,
      32,
      h0,
      h1,
      58,
      m0,
      m1,
      58,
      s0,
      s1,
    );
  const f = t - sec * 1000;
  return String.fromCharCode(
    d[0]!,
    d[1]!,
    d[2]!,
    d[3]!,
    d[4]!,
    d[5]!,
    d[6]!,
    d[7]!,
    d[8]!,
    d[9]!,
    32,
    h0,
    h1,
    58,
    m0,
    m1,
    58,
    s0,
    s1,
    46,
    D0 + Math.floor(f / 100),
    D0 + (Math.floor(f / 10) % 10),
    D0 + (f % 10),
  );
}

/** Per-call memos of the binary reader. */
interface TimeMemo {
  days: Map<number, number[]>;
  /** Whole hours' text by second: first_seen and last_seen repeat across PRs. */
  seconds: Map<number, string>;
}

function secondsText(seconds: number, memo: TimeMemo): string {
  let s = memo.seconds.get(seconds);
  if (s === undefined) {
    s = timeText(seconds * 1000, false, memo.days);
    memo.seconds.set(seconds, s);
  }
  return s;
}

/**
 * cost-per-pr rows from cost_per_pr_totals.sql's RowBinaryWithNamesAndTypes bytes (columns
 * COST_PER_PR_COLUMNS, types COST_PER_PR_BINARY_TYPES): the same rows readCostPerPrTsv gives for the
 * text projection of the same values (test/integration/cost-per-pr-rows.test.ts compares them).
 * @throws StoreError QUERY_FAILED when the header differs or the bytes end inside a row.
 */
export function readCostPerPrRowBinary(b: Uint8Array): CostPerPrRow[] {
  if (b.length === 0) return [];
  const c: ByteCursor = { pos: 0 };
  const n = varUInt(b, c);
  const names: string[] = [];
  const types: string[] = [];
  const strings: StringMemo = new Map();
  for (let i = 0; i < n; i++) names.push(stringBin(b, c, strings));
  for (let i = 0; i < n; i++) types.push(stringBin(b, c, strings));
  if (
    names.join('\t') !== HEADER ||
    types.join('\t') !== (COST_PER_PR_BINARY_TYPES as readonly string[]).join('\t')
  )
    throw binaryError(
      `has the columns ${JSON.stringify(names)} of types ${JSON.stringify(types)}, not ` +
        `${JSON.stringify(COST_PER_PR_COLUMNS)} of ${JSON.stringify(COST_PER_PR_BINARY_TYPES)}`,
    );
  const out: CostPerPrRow[] = [];
  const times: TimeMemo = { days: new Map(), seconds: new Map() };
  const len = b.length;
  while (c.pos < len) {
    // A row's fixed part after the repository is 111 bytes (119 with merged_at).
    const repo = stringBin(b, c, strings);
    if (c.pos + 111 > len) throw binaryError('ends inside a row');
    const prNum = u32(b, c.pos);
    c.pos += 4;
    const pr = prNum === 0 ? null : prNum;
    const sessions = u64(b, c);
    const llmCalls = u64(b, c);
    const toolCalls = u64(b, c);
    const input = u64(b, c);
    const output = u64(b, c);
    const cacheRead = u64(b, c);
    const cacheWrite = u64(b, c);
    const reasoning = u64(b, c);
    const cost = moneyBin(b, c);
    const unpriced = i64(b, c);
    const wastedTokens = u64(b, c);
    const wasted = moneyBin(b, c);
    const firstSeen = secondsText(u32(b, c.pos), times);
    const lastSeen = secondsText(u32(b, c.pos + 4), times);
    const rules = RULES_BY_BITS[b[c.pos + 8]!]!;
    const code = b[c.pos + 9]!;
    const isNull = b[c.pos + 10]! !== 0;
    c.pos += 11;
    let mergedAt: string | null = null;
    if (!isNull) {
      if (c.pos + 8 > len) throw binaryError('ends inside a row');
      mergedAt = timeText(i64(b, c), true, times.days);
    }
    out.push({
      repo,
      pr,
      sessions,
      llm_calls: llmCalls,
      tool_calls: toolCalls,
      input_tokens: input,
      output_tokens: output,
      cache_read_tokens: cacheRead,
      cache_write_tokens: cacheWrite,
      reasoning_tokens: reasoning,
      cost_nanos: cost.nanos,
      cost_usd: cost.usd,
      unpriced_calls: unpriced,
      wasted_tokens: wastedTokens,
      wasted_cost_nanos: wasted.nanos,
      wasted_cost_usd: wasted.usd,
      first_seen: firstSeen,
      last_seen: lastSeen,
      rules,
      state: pr === null ? null : (STATE_BY_CODE[code] ?? 'unknown'),
      merged_at: mergedAt,
    });
  }
  return out;
}
