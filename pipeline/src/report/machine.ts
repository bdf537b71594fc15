/**
 * Report rows as programs read them, the same from the CLI (`--json`, `--format csv`) and from
 * the HTTP API: money never shown as $0 when nothing was priced, timestamps in ISO-8601 UTC.
 */

type Row = Record<string, unknown>;

/** ClickHouse's text form of a DateTime64 in UTC, e.g. `2026-12-01 13:33:26.028000000`. */
const CH_DATETIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?$/;

/** `2026-12-01 13:33:26.028000000` → `2026-12-01T13:33:26.028Z` (milliseconds kept, UTC). */
export function isoUtc(text: string): string {
  const m = CH_DATETIME.exec(text);
  if (!m) return text;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${m[1] ?? ''}T${m[2] ?? ''}.${ms}Z`;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/**
 * One row for a program: timestamps as ISO-8601 UTC; on rows that count LLM calls, the money is
 * `null` when none of them was priced (the cost is unknown, not $0), and `cost_complete` says
 * whether every call was priced.
 */
export function machineRow(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      typeof v === 'string'
        ? isoUtc(v)
        : Array.isArray(v) // nested rows (cost --breakdown's models) follow the same rules
          ? v.map((x: unknown) => (x !== null && typeof x === 'object' ? machineRow(x as Row) : x))
          : v;
  if ('cost_nanos' in row && 'unpriced_calls' in row) {
    const unpriced = num(row.unpriced_calls);
    const calls = 'llm_calls' in row ? num(row.llm_calls) : unpriced;
    if (unpriced > 0 && unpriced >= calls) {
      out.cost_nanos = null;
      if ('cost_usd' in row) out.cost_usd = null;
    }
    out.cost_complete = unpriced === 0;
  }
  return out;
}

/** What `--json` prints and `GET /api/v1/reports/<name>` answers. */
export interface ReportEnvelope {
  report: string;
  /** The window, ISO-8601 UTC. */
  since: string;
  until: string;
  rows: Row[];
}

export function reportEnvelope(
  report: string,
  window: { since: Date; until: Date },
  rows: readonly Row[],
): ReportEnvelope {
  return {
    report,
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    rows: rows.map(machineRow),
  };
}

/**
 * CSV has no nesting: rows carrying `models` (cost --breakdown) become a flat list, each row
 * followed by one line per model. `level` tells them apart (`key` or `model`; a model line's
 * `model` may be empty: tool calls, which carry no model), and `model` is empty on key lines.
 */
export function flattenBreakdown(rows: readonly Row[]): Row[] {
  if (!rows.some((r) => Array.isArray(r.models))) return [...rows];
  return rows.flatMap((r) => {
    const { models, ...rest } = r;
    const parent: Row = { level: 'key', ...rest, model: null };
    const subs = Array.isArray(models) ? (models as Row[]) : [];
    return [parent, ...subs.map((m) => ({ level: 'model', by: r.by, key: r.key, ...m }))];
  });
}

/** Characters a spreadsheet reads as the start of a formula (OWASP CSV injection). */
const FORMULA_LEAD = /^[=+\-@\t\r]/;
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/**
 * One CSV cell (RFC 4180 quoting). Text that a spreadsheet would run as a formula gets a leading
 * `'`, the OWASP guard; plain numbers (a negative drift) are left as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
        ? String(v)
        : JSON.stringify(v);
  if (FORMULA_LEAD.test(s) && !(typeof v === 'number' || NUMBER.test(s))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV: a header of every field, then one line per row. */
export function toCsv(rows: readonly Row[], fallbackColumns: readonly string[] = []): string {
  const cols = rows[0] ? Object.keys(rows[0]) : fallbackColumns;
  return (
    [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n'
  );
}
