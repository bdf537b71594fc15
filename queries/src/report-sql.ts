/**
 * Report SQL: the files under queries/reports with their shared fragments inlined, run with bound
 * parameters, and the conversions every report's rows use.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { parseTsvWithNames } from './tsv.js';

const REPORTS_DIR = fileURLToPath(new URL('../reports/', import.meta.url));
const sqlCache = new Map<string, string>();

/** Variants of an included fragment (include marker with `:name`): markers replaced by more SQL. */
const FRAGMENT_VARIANTS: Record<string, readonly { marker: string; file: string }[]> = {
  // cost-per-pr: redundancy findings join the linked stream, so the same rules charge the waste.
  with_waste: [{ marker: '/*waste_rows*/', file: '_waste_rows.sql' }],
  // prelink_waste.sql: only the findings, and the link rollup rows, of the sessions being re-linked.
  relink: [
    { marker: '/*findings_filter*/', file: '_waste_relink_filter.sql' },
    { marker: '/*rollup_filter*/', file: '_waste_relink_rollup_filter.sql' },
  ],
  // Per-PR totals (migration 0023): of the PRs being re-linked, or of the PRs a window cuts.
  pr_totals: [{ marker: '/*rows*/', file: '_pr_totals_linked.sql' }],
  pr_totals_window: [{ marker: '/*rows*/', file: '_pr_totals_window.sql' }],
  // cost_per_pr.sql: every PR of the linked stream (with its waste), summed as the totals are.
  linked_usage: [{ marker: '/*rows*/', file: '_linked_usage_rows.sql' }],
};

/**
 * Fragments swapped in the prelinked variant of a linked report: spend and waste already charged to
 * their PR (usage_linked_hour, waste_linked_hour), PR state materialized (pr_state).
 */
export const PRELINKED_FRAGMENTS: Readonly<Record<string, string>> = {
  '_linked_usage.sql': '_linked_usage_prelinked.sql',
  '_waste_rows.sql': '_waste_rows_linked.sql',
  '_pr_facts.sql': '_pr_state.sql',
};

/** PRELINKED_FRAGMENTS for cost_per_pr_totals.sql when the window cuts no PR: totals rows only. */
export const PRELINKED_WHOLE_FRAGMENTS: Readonly<Record<string, string>> = {
  ...PRELINKED_FRAGMENTS,
  '_pr_totals_cut_rows.sql': '_none.sql',
};

/**
 * PRELINKED_FRAGMENTS with the waste read from the findings, linked through the rules' materialized
 * lookups (pr_links): for a window that ends inside an hour holding later findings.
 */
export const PRELINKED_LIVE_WASTE_FRAGMENTS: Readonly<Record<string, string>> = {
  ...PRELINKED_FRAGMENTS,
  '_waste_rows.sql': '_waste_rows_prelinked.sql',
};

/**
 * A report's SQL with its shared fragments (`include:_name.sql` comment markers, e.g. the linkage
 * rules) inlined; with `swap` (e.g. PRELINKED_FRAGMENTS), some fragments are replaced by others.
 */
export function reportSql(
  file: string,
  depth = 0,
  swap: Readonly<Record<string, string>> | undefined = undefined,
): string {
  const key =
    swap === undefined
      ? file
      : `${file}|${Object.entries(swap)
          .map(([a, b]) => `${a}>${b}`)
          .join(',')}`;
  let sql = sqlCache.get(key);
  if (sql === undefined) {
    sql = readFileSync(`${REPORTS_DIR}/${file}`, 'utf8').replace(
      /\/\*include:([A-Za-z0-9_]+\.sql)(?::([a-z_]+))?\*\//g,
      (_m, name: string, filter: string | undefined) => {
        if (depth > 5)
          throw new StoreError('INVALID_ARGUMENT', `Fragments nest too deep in ${file}.`);
        const body = reportSql(swap?.[name] ?? name, depth + 1, swap);
        const variant = filter === undefined ? undefined : FRAGMENT_VARIANTS[filter];
        if (filter !== undefined && variant === undefined)
          throw new StoreError(
            'INVALID_ARGUMENT',
            `Unknown fragment variant ${filter} in ${file}.`,
          );
        let out = body;
        for (const v of variant ?? [])
          out = out.replace(v.marker, () => reportSql(swap?.[v.file] ?? v.file, depth + 1, swap));
        return `\n${out}\n`;
      },
    );
    sqlCache.set(key, sql);
  }
  return sql;
}

/** Token and cost totals every cost report row carries. */
export interface UsageTotals {
  sessions: number;
  llm_calls: number;
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  /** Exact cost of the priced calls, integer nano-USD as a decimal string. */
  cost_nanos: string;
  /** cost_nanos in dollars (display and JSON convenience). */
  cost_usd: number;
  /** LLM calls whose model had no price: their cost is unknown, not zero. */
  unpriced_calls: number;
}

export type RawRow = Record<string, string | number | null>;

/**
 * Runs a report file with bound parameters (log_comment names the report). `tsv`: read the rows as
 * TabSeparatedWithNames (every value a string or null; for reports of many rows, see tsv.ts).
 */
export async function runReport(
  client: ClickHouseClient,
  report: string,
  file: string,
  params: Record<string, unknown>,
  swap?: Readonly<Record<string, string>>,
  tsv = false,
): Promise<RawRow[]> {
  if (tsv) return parseTsvWithNames(await runReportText(client, report, file, params, swap));
  try {
    const rs = await client.query({
      ...reportQuery(report, file, params, swap),
      format: 'JSONEachRow',
    });
    return await rs.json<RawRow>();
  } catch (err) {
    throw reportFailed(report, err);
  }
}

function reportQuery(
  report: string,
  file: string,
  params: Record<string, unknown>,
  swap: Readonly<Record<string, string>> | undefined,
) {
  return {
    query: reportSql(file, 0, swap),
    query_params: params,
    clickhouse_settings: { log_comment: `harness-meter report ${report}` },
  };
}

function reportFailed(report: string, err: unknown): StoreError {
  return new StoreError('QUERY_FAILED', `Report ${report} failed: ${messageOf(err)}`, {
    cause: err,
    retriable: true,
  });
}

/**
 * A report's result as TabSeparatedWithNames text, for a reader made for its columns (e.g.
 * cost-per-pr-rows.ts); runReport's `tsv` parses the same text into string rows.
 */
export async function runReportText(
  client: ClickHouseClient,
  report: string,
  file: string,
  params: Record<string, unknown>,
  swap?: Readonly<Record<string, string>>,
): Promise<string> {
  try {
    const rs = await client.query({
      ...reportQuery(report, file, params, swap),
      format: 'TabSeparatedWithNames',
    });
    return await rs.text();
  } catch (err) {
    throw reportFailed(report, err);
  }
}

/**
 * A report's result in a binary format (e.g. RowBinaryWithNamesAndTypes) as bytes, for a reader
 * made for its columns (cost-per-pr-rows.ts): `exec` hands over the body as chDB or the server sent
 * it, with no text decoding on the way.
 */
export async function runReportBytes(
  client: ClickHouseClient,
  report: string,
  file: string,
  params: Record<string, unknown>,
  swap: Readonly<Record<string, string>> | undefined,
  format: 'RowBinaryWithNamesAndTypes',
): Promise<Buffer> {
  try {
    const q = reportQuery(report, file, params, swap);
    const rs = await client.exec({ ...q, query: `${q.query}\nFORMAT ${format}` });
    const chunks: Buffer[] = [];
    for await (const chunk of rs.stream) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  } catch (err) {
    throw reportFailed(report, err);
  }
}

export function num(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export function totals(r: RawRow): UsageTotals {
  const costNanos = BigInt(r.cost_nanos ?? 0);
  return {
    sessions: num(r.sessions),
    llm_calls: num(r.llm_calls),
    tool_calls: num(r.tool_calls),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    reasoning_tokens: num(r.reasoning_tokens),
    cost_nanos: costNanos.toString(),
    cost_usd: nanosToUsdNumber(costNanos),
    unpriced_calls: num(r.unpriced_calls),
  };
}
