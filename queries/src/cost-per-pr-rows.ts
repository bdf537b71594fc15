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
