import { formatUsd } from '@harness-meter/queries/pure';
import { flattenBreakdown, isoUtc, reportEnvelope, toCsv } from './machine.js';

export type OutputFormat = 'table' | 'json' | 'csv';

type Row = Record<string, unknown>;

/** How a table is drawn: the terminal's width, every column or not, colour or not. */
export interface TableOptions {
  /** Columns available; undefined: no limit. */
  width?: number;
  /** Every column, whatever the width. Default false. */
  wide?: boolean;
  /** ANSI colour (a TTY without NO_COLOR). Default false. */
  color?: boolean;
  /** Heading line above the table. */
  heading?: string;
}

/** Money in tables: dollars with this many decimals, everywhere. */
export const USD_DECIMALS = 4;
/** Longest text cell when the table must fit (the rest is cut with …); --wide shows all. */
const MAX_TEXT = 36;

/**
 * `n.toLocaleString('en-US')`, the same text: one formatter for the whole table instead of ICU set
 * up again for every cell (most of a 5,000-row table's time; issue 17).
 */
const GROUPED = new Intl.NumberFormat('en-US');

/** Text of a scalar cell value; objects as JSON. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string') return v;
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

/**
 * Control and escape characters from span data shown as visible escapes (`\x1b`), never sent to
 * the terminal (terminal injection); bidirectional overrides too (they reorder what is shown).
 */
export function escapeControl(s: string): string {
  return s.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => {
      const code = c.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/** Columns shown in the table view, most important first (JSON and CSV carry every field). */
const TABLE_COLUMNS: Record<string, string[]> = {
  'cost-per-pr': [
    'repo',
    'pr',
    'cost_usd',
    'llm_calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'wasted_usd',
    'unpriced_calls',
    'sessions',
    'tool_calls',
    'wasted_tokens',
  ],
  waste: [
    'key',
    'cost_usd',
    'occurrences',
    'wasted_tokens',
    'sessions',
    'carried_tokens',
    'direct_usd',
    'carried_usd',
    'max_loop_length',
  ],
  'waste-calls': [
    'at',
    'session_id',
    'span_id',
    'repeats_span_id',
    'kind',
    'tool_name',
    'wasted_tokens',
    'direct_usd',
    'carried_usd',
    'cost_usd',
    'reason',
  ],
  cost: [
    'key',
    'cost_usd',
    'llm_calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'unpriced_calls',
    'sessions',
    'tool_calls',
  ],
  blocks: [
    'block_start',
    'last_call',
    'active',
    'llm_calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'cost_usd',
    'unpriced_calls',
    'models',
  ],
  unpriced: [
    'model',
    'provider',
    'calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'first_seen',
    'last_seen',
  ],
  'usage-check': [
    'model',
    'provider',
    'check',
    'calls',
    'source',
    'input_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'last_seen',
    'example_trace',
  ],
  alerts: [
    'at',
    'state',
    'rule_id',
    'entity',
    'figure_text',
    'threshold_text',
    'delivery',
    'message',
  ],
  'cost-drift': [
    'model',
    'provider',
    'reason',
    'calls',
    'drift_usd',
    'reported_usd',
    'computed_usd',
    'first_seen',
    'last_seen',
  ],
};

/** Short headers, so tables fit; `--format json` keeps the field names. */
const HEADER: Record<string, string> = {
  cost_usd: 'cost',
  llm_calls: 'llm calls',
  tool_calls: 'tool calls',
  input_tokens: 'input',
  output_tokens: 'output',
  cache_read_tokens: 'cache read',
  cache_write_tokens: 'cache write',
  reasoning_tokens: 'reasoning',
  unpriced_calls: 'unpriced',
  wasted_tokens: 'wasted tok',
  wasted_usd: 'wasted',
  carried_tokens: 'carried tok',
  direct_usd: 'direct',
  carried_usd: 'carried',
  max_loop_length: 'max loop',
  occurrences: 'count',
  reported_usd: 'reported',
  computed_usd: 'computed',
  drift_usd: 'drift',
};

/** Money columns: the nano-USD field each is shown from (`x_usd` from `x_nanos` or `x_cost_nanos`). */
function nanosField(col: string, sample: Row = {}): string | undefined {
  if (col === 'cost_usd') return 'cost_nanos';
  if (col.endsWith('_usd')) {
    const base = col.slice(0, -4);
    return `${base}_nanos` in sample ? `${base}_nanos` : `${base}_cost_nanos`;
  }
  if (col.endsWith('_nanos')) return col;
  return undefined;
}

const usdText = (nanos: bigint): string =>
  (nanos < 0n ? '-$' : '$') + formatUsdGrouped(nanos < 0n ? -nanos : nanos);

function formatUsdGrouped(nanos: bigint): string {
  const [whole = '0', frac = ''] = formatUsd(nanos, USD_DECIMALS).split('.');
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

function nanosOf(row: Row, field: string): bigint | null {
  const v = row[field];
  if (v === null || v === undefined || v === '') return null;
  try {
    return BigInt(text(v));
  } catch {
    return null;
  }
}

/** Whether every LLM call of the row is unpriced (its cost is unknown, never $0). */
const allUnpriced = (row: Row): boolean => {
  const unpriced = Number(row.unpriced_calls ?? 0);
  return unpriced > 0 && unpriced >= Number(row.llm_calls ?? unpriced);
};

/** Columns of a report with no list above: its fields, money from the exact nano-USD fields. */
function derivedColumns(rows: readonly Row[]): string[] {
  const keys = rows[0] ? Object.keys(rows[0]) : [];
  const cols: string[] = [];
  for (const k of keys) {
    if (k === 'cost_complete') continue; // the table says it with ≥ and the unpriced note
    if (k.endsWith('_usd') && keys.includes(nanosField(k, rows[0]) ?? '')) continue;
    cols.push(
      k.endsWith('_nanos') ? k.replace(/_nanos$/, '_usd').replace(/_cost_usd$/, '_usd') : k,
    );
  }
  return cols;
}

function isMoney(col: string, rows: readonly Row[]): boolean {
  const f = nanosField(col, rows[0]);
  return f !== undefined && rows.some((r) => f in r);
}

function isNumeric(col: string, rows: readonly Row[]): boolean {
  if (isMoney(col, rows) || col === 'pr') return true;
  return rows.some((r) => typeof r[col] === 'number');
}

function cell(row: Row, col: string, money: boolean): string {
  const v = row[col];
  if (money) {
    const field = nanosField(col, row) ?? col;
    if (col === 'cost_usd' && allUnpriced(row)) return 'unpriced';
    const nanos = nanosOf(row, field);
    if (nanos === null) return col === 'cost_usd' ? 'unpriced' : '';
    return (col === 'cost_usd' && Number(row.unpriced_calls ?? 0) > 0 ? '≥' : '') + usdText(nanos);
  }
  if (col === 'pr') return v === null || v === undefined ? '(none)' : `#${text(v)}`;
  if (col === 'key' && v === '')
    return row.by === 'model' || row.by === 'provider' ? '(tool calls)' : '(none)';
  if (typeof v === 'number') return GROUPED.format(v);
  if (typeof v === 'string') return escapeControl(isoUtc(v));
  return escapeControl(text(v));
}

/** Summable columns: counts and money; a totals row sums them. */
const NOT_SUMMED = new Set(['pr', 'max_loop_length', 'sessions']);

/** Reports whose rows add up (a totals row); medians and rates do not. */
const ADDITIVE = new Set([
  'cost-per-pr',
  'cost',
  'waste',
  'unpriced',
  'usage-check',
  'cost-drift',
  'linkage',
]);

function totalsRow(
  report: string,
  cols: string[],
  rows: readonly Row[],
  money: boolean[],
): string[] | undefined {
  if (rows.length < 2 || !ADDITIVE.has(report)) return undefined;
  let any = false;
  const cells = cols.map((c, i) => {
    if (i === 0) return 'total';
    if (NOT_SUMMED.has(c) || /pct|percent|ratio|rate|median|p\d+|avg/.test(c)) return '';
    if (money[i]) {
      const field = nanosField(c, rows[0]) ?? c;
      let sum = 0n;
      let known = false;
      for (const r of rows) {
        const n = c === 'cost_usd' && allUnpriced(r) ? null : nanosOf(r, field);
        if (n !== null) {
          sum += n;
          known = true;
        }
      }
      any = true;
      if (!known) return c === 'cost_usd' ? 'unpriced' : '';
      const partial = c === 'cost_usd' && rows.some((r) => Number(r.unpriced_calls ?? 0) > 0);
      return (partial ? '≥' : '') + usdText(sum);
    }
    if (rows.every((r) => typeof r[c] === 'number')) {
      any = true;
      return GROUPED.format(rows.reduce((n, r) => n + Number(r[c]), 0));
    }
    return '';
  });
  return any ? cells : undefined;
}

/** Marks a per-model row under its parent in the first column. */
export const SUB_ROW_PREFIX = '  └ ';

/**
 * A row's per-model rows (cost --breakdown) as table rows: the model in the first column, behind
 * SUB_ROW_PREFIX; a model '' holds the tool calls.
 */
function subRows(row: Row): Row[] {
  if (!Array.isArray(row.models)) return [];
  return (row.models as Row[]).map((m) => {
    const name = typeof m.model === 'string' && m.model !== '' ? m.model : '(tool calls)';
    return { ...m, by: 'model', key: SUB_ROW_PREFIX + name };
  });
}

const cut = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const shortRepo = (s: string): string => s.replace(/^https?:\/\/(www\.)?github\.com\//, '');

const ansi = (code: string, s: string, on: boolean): string =>
  on ? `\x1b[${code}m${s}\x1b[0m` : s;

/** Renders report rows as a table that fits `width` columns (unless `wide`). */
export function formatTable(
  report: string,
  rows: readonly Row[],
  options: TableOptions = {},
): string {
  const heading = options.heading ? escapeControl(options.heading) + '\n' : '';
  if (rows.length === 0) return `${heading}(no data in this window)\n`;
  let cols = (TABLE_COLUMNS[report] ?? derivedColumns(rows)).filter(
    (c) => c in (rows[0] ?? {}) || nanosField(c) !== undefined,
  );
  if (cols.length === 0) cols = Object.keys(rows[0] ?? {});
  const money = (cs: string[]): boolean[] => cs.map((c) => isMoney(c, rows));
  const fit = options.wide !== true && options.width !== undefined;
  // cost --breakdown: each row's per-model rows, indented under it (ccusage's habit).
  const bodyRows = rows.flatMap((r) => [
    { sub: false, row: r },
    ...subRows(r).map((sub) => ({ sub: true, row: sub })),
  ]);
  // Each column's cells are computed once: fitting the width renders again with fewer columns.
  const columnCells = new Map<string, string[]>();
  const cellsOf = (c: string): string[] => {
    let out = columnCells.get(c);
    if (out === undefined) {
      const isMoneyCol = isMoney(c, rows);
      const cutText = fit && !isNumeric(c, rows);
      out = bodyRows.map(({ row }) => {
        let s = cell(row, c, isMoneyCol);
        if (c === 'repo' && fit) s = shortRepo(s);
        return cutText ? cut(s, MAX_TEXT) : s;
      });
      columnCells.set(c, out);
    }
    return out;
  };
  const render = (cs: string[]): { lines: string[]; width: number; numeric: boolean[] } => {
    const m = money(cs);
    const numeric = cs.map((c) => isNumeric(c, rows));
    const columns = cs.map(cellsOf);
    const body = bodyRows.map(({ sub }, j) => ({ sub, vals: columns.map((col) => col[j] ?? '') }));
    const total = totalsRow(report, cs, rows, m);
    const headers = cs.map((c) => HEADER[c] ?? c.replace(/_usd$/, '').replace(/_/g, ' '));
    const all = [headers, ...body.map((b) => b.vals), ...(total ? [total] : [])];
    const widths = cs.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    const line = (vals: string[]): string =>
      vals
        .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    const rule = widths.map((w) => '─'.repeat(w)).join('  ');
    const lines = [
      ansi('1', line(headers), options.color === true),
      rule,
      ...body.map(({ sub, vals }) => {
        const l = line(vals);
        if (vals.includes('unpriced')) return ansi('33', l, options.color === true);
        return sub ? ansi('2', l, options.color === true) : l;
      }),
      ...(total ? [rule, ansi('1', line(total), options.color === true)] : []),
    ];
    return { lines, width: rule.length, numeric };
  };
  let table = render(cols);
  const hidden: string[] = [];
  while (fit && table.width > (options.width ?? Infinity) && cols.length > 2) {
    hidden.unshift(cols[cols.length - 1] ?? '');
    cols = cols.slice(0, -1);
    table = render(cols);
  }
  const foot = footer(report, rows);
  const notes = [
    ...(foot ? [foot] : []),
    ...(hidden.length > 0
      ? [
          `(${hidden.length} more column(s) hidden to fit ${String(options.width)} columns: ${hidden.join(', ')}; --wide shows them, --json has every field)`,
        ]
      : []),
  ].map((n) => (fit ? wrap(n, options.width ?? Infinity) : n));
  return (
    heading + table.lines.join('\n') + '\n' + (notes.length > 0 ? `\n${notes.join('\n')}\n` : '')
  );
}

/** Word-wraps a note to the terminal's width. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

/** Renders report rows for a terminal (table), a program (json) or a spreadsheet (csv). */
export function formatRows(
  report: string,
  rows: readonly Row[],
  format: OutputFormat,
  options: TableOptions & { window?: { since: Date; until: Date } } = {},
): string {
  if (format === 'json') {
    const window = options.window ?? { since: new Date(0), until: new Date() };
    return JSON.stringify(reportEnvelope(report, window, rows), null, 2) + '\n';
  }
  if (report === 'waste' && rows[0] && 'span_id' in rows[0]) report = 'waste-calls';
  if (format === 'csv')
    return toCsv(
      flattenBreakdown(
        reportEnvelope(report, { since: new Date(0), until: new Date(0) }, rows).rows,
      ),
      TABLE_COLUMNS[report] ?? [],
    );
  return formatTable(report, rows, options);
}

function footer(report: string, rows: readonly Row[]): string {
  const calls = rows.reduce((n, r) => n + Number(r.calls ?? 0), 0);
  if (report === 'unpriced')
    return `${calls} LLM call(s) of ${rows.length} model(s) have no price (cost unknown, not $0): add them to HM_PRICES_FILE, then run harness-meter reprice`;
  if (report === 'usage-check')
    return `${calls} LLM call(s) whose usage parts do not add up (input must include cache reads and writes): fix the producer's mapping`;
  if (report === 'alerts') return `${rows.length} notice(s); every field: --json`;
  if (report === 'cost-drift') {
    const drift = rows.reduce((n, r) => n + (nanosOf(r, 'drift_nanos') ?? 0n), 0n);
    return `${calls} call(s) drift; reported − computed: ${usdText(drift)}`;
  }
  if (report === 'churn' || report === 'survival' || report === 'defects')
    return `${rows.length} row(s); provisional rows have a window still open (counts so far, not final)`;
  const unpriced = rows.reduce((n, r) => n + Number(r.unpriced_calls ?? 0), 0);
  return unpriced > 0
    ? `${unpriced} LLM call(s) unpriced (cost unknown, not counted as $0; ≥ marks rows with some): harness-meter report unpriced`
    : '';
}
