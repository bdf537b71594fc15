import { formatUsd } from '@harness-meter/queries';

export type OutputFormat = 'table' | 'json' | 'csv';

type Row = Record<string, unknown>;

/** Text of a scalar cell value; objects as JSON. */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string') return v;
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

const nanosOf = (row: Row): bigint => BigInt(text(row.cost_nanos) || '0');

/** Columns shown in the table view (JSON and CSV carry every field). */
const TABLE_COLUMNS: Record<string, string[]> = {
  'cost-per-pr': [
    'repo',
    'pr',
    'sessions',
    'llm_calls',
    'tool_calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'cost_usd',
    'unpriced_calls',
    'wasted_tokens',
    'wasted_usd',
  ],
  waste: [
    'key',
    'occurrences',
    'sessions',
    'wasted_tokens',
    'carried_tokens',
    'direct_usd',
    'carried_usd',
    'cost_usd',
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
    'sessions',
    'llm_calls',
    'tool_calls',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'cost_usd',
    'unpriced_calls',
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
    'source',
    'check',
    'calls',
    'input_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'example_trace',
    'last_seen',
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
    'reported_usd',
    'computed_usd',
    'drift_usd',
    'first_seen',
    'last_seen',
  ],
};

/** Dollar columns shown from an exact nano-USD field. */
const USD_FROM: Record<string, string> = {
  wasted_usd: 'wasted_cost_nanos',
  direct_usd: 'direct_cost_nanos',
  carried_usd: 'carried_cost_nanos',
};

const NUMERIC = new Set([
  'occurrences',
  'wasted_tokens',
  'carried_tokens',
  'wasted_usd',
  'direct_usd',
  'carried_usd',
  'max_loop_length',
  'pr',
  'sessions',
  'llm_calls',
  'tool_calls',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'reasoning_tokens',
  'cost_usd',
  'unpriced_calls',
  'calls',
  'reported_usd',
  'computed_usd',
  'drift_usd',
]);

function cell(row: Row, col: string): string {
  const v = row[col];
  const usdField = USD_FROM[col];
  if (usdField !== undefined) return '$' + formatUsd(BigInt(text(row[usdField]) || '0'), 4);
  if (col === 'cost_usd') {
    const unpriced = Number(row.unpriced_calls ?? 0);
    if (unpriced > 0 && unpriced === Number(row.llm_calls ?? 0)) return 'unpriced';
    return (unpriced > 0 ? '≥$' : '$') + formatUsd(nanosOf(row), 4);
  }
  if (col === 'reported_usd' || col === 'computed_usd' || col === 'drift_usd') {
    const nanos = BigInt(text(row[col.replace(/_usd$/, '_nanos')]) || '0');
    return (nanos < 0n ? '-$' : '$') + formatUsd(nanos < 0n ? -nanos : nanos, 4);
  }
  if (col === 'pr') return v === null || v === undefined ? '(none)' : `#${text(v)}`;
  if (col === 'key' && v === '')
    return row.by === 'model' || row.by === 'provider' ? '(tool calls)' : '(none)';
  if (typeof v === 'number') return v.toLocaleString('en-US');
  return text(v);
}

function csvEscape(v: unknown): string {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders report rows for a terminal (table), a program (json: one array) or a spreadsheet (csv). */
export function formatRows(
  report: string,
  rows: readonly Row[],
  format: OutputFormat,
  heading = '',
): string {
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  if (report === 'waste' && rows[0] && 'span_id' in rows[0]) report = 'waste-calls';
  if (format === 'csv') {
    const cols = rows[0] ? Object.keys(rows[0]) : (TABLE_COLUMNS[report] ?? []);
    return (
      [cols.join(','), ...rows.map((r) => cols.map((c) => csvEscape(r[c])).join(','))].join('\n') +
      '\n'
    );
  }
  const cols = TABLE_COLUMNS[report] ?? (rows[0] ? Object.keys(rows[0]) : []);
  if (rows.length === 0) return `${heading ? heading + '\n' : ''}(no data in this window)\n`;
  const body = rows.map((r) => cols.map((c) => cell(r, c)));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) =>
        NUMERIC.has(cols[i] ?? '') ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const out = [
    ...(heading ? [heading] : []),
    line(cols),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
    footer(report, rows),
  ];
  return out.join('\n') + '\n';
}

function footer(report: string, rows: readonly Row[]): string {
  const calls = rows.reduce((n, r) => n + Number(r.calls ?? 0), 0);
  if (report === 'unpriced')
    return `${calls} LLM call(s) of ${rows.length} model(s) have no price (cost unknown, not $0): add them to HM_PRICES_FILE, then run harness-meter reprice`;
  if (report === 'usage-check')
    return `${calls} LLM call(s) whose usage parts do not add up (input must include cache reads and writes): fix the producer's mapping`;
  if (report === 'alerts')
    return `${rows.length} notice(s); detail and the command to see more: --format json`;
  if (report === 'cost-drift') {
    const drift = rows.reduce((n, r) => n + BigInt(text(r.drift_nanos) || '0'), 0n);
    return `${calls} call(s) drift; reported − computed: ${drift < 0n ? '-' : ''}$${formatUsd(drift < 0n ? -drift : drift, 4)}`;
  }
  if (report === 'churn' || report === 'survival' || report === 'defects')
    return `${rows.length} row(s); provisional rows have a window still open (counts so far, not final)`;
  const totalNanos = rows.reduce((n, r) => n + nanosOf(r), 0n);
  const unpriced = rows.reduce((n, r) => n + Number(r.unpriced_calls ?? 0), 0);
  return (
    `total: $${formatUsd(totalNanos, 4)} over ${rows.length} row(s)` +
    (unpriced > 0
      ? `; ${unpriced} LLM call(s) unpriced (cost unknown, not counted as $0; ≥ marks rows with some)`
      : '')
  );
}
