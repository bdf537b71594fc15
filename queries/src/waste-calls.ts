import type { ClickHouseClient } from '@clickhouse/client';
import { nanosToUsdNumber } from './money.js';
import { num, runReport, windowParams, type ReportWindow } from './reports.js';

/** Rows `waste --by call` returns at most (newest first). */
export const WASTE_CALLS_LIMIT = 10_000;

/** One redundant call, with the span it repeats: what `waste --by call` lists. */
export interface WasteCallRow {
  by: 'call';
  at: string;
  session_id: string;
  /** The redundant call's span id. */
  span_id: string;
  /** The earlier call it repeats. */
  repeats_span_id: string;
  kind: string;
  /** Why it counts, in words. */
  reason: string;
  tool_name: string;
  mcp_server: string;
  loop_length: number;
  result_tokens: number;
  wasted_tokens: number;
  carried_tokens: number;
  direct_cost_nanos: string;
  carried_cost_nanos: string;
  cost_nanos: string;
  /** direct + carried, in dollars */
  cost_usd: number;
  /** false when an LLM call involved had no price (its part counts as 0). */
  fully_priced: boolean;
}

/** The rule that made a finding, in words (the rules are in instrumentation/src/rules.ts). */
export function wasteReason(kind: string, repeats: string, loopLength: number): string {
  switch (kind) {
    case 're_read':
      return `reads lines ${repeats} already read; nothing wrote to the file since`;
    case 'repeated_search':
      return `same search or listing as ${repeats}; nothing that may change its result ran since`;
    case 'retry_loop':
      return `same command as ${repeats}, which failed, run again with nothing changed (run ${loopLength} in a row)`;
    case 'unchanged_rerun':
      return `same test or build as ${repeats}, which passed, run again with nothing changed`;
    case 're_fetch':
      return `fetches what ${repeats} already fetched (same URL and question, or same lookup)`;
    case 'edit_churn':
      return `puts back what ${repeats} replaced`;
    default:
      return `repeats ${repeats}`;
  }
}

/**
 * Each redundant call in the window (latest scan of each session), newest first, with the span it
 * repeats, kind, reason and dollars, so a finding can be checked against its session.
 */
export async function wasteCalls(
  client: ClickHouseClient,
  options: { db: string; limit?: number } & ReportWindow,
): Promise<WasteCallRow[]> {
  const rows = await runReport(client, 'waste-by-call', 'waste_calls.sql', {
    ...windowParams(options.db, options),
    limit: options.limit ?? WASTE_CALLS_LIMIT,
  });
  return rows.map((r) => {
    const direct = BigInt(r.direct_cost_nanos ?? 0);
    const carried = BigInt(r.carried_cost_nanos ?? 0);
    const repeats = String(r.repeats_span_id ?? '');
    const kind = String(r.kind ?? '');
    return {
      by: 'call',
      at: String(r.at ?? ''),
      session_id: String(r.session_id ?? ''),
      span_id: String(r.span_id ?? ''),
      repeats_span_id: repeats,
      kind,
      reason: wasteReason(kind, repeats, num(r.loop_length)),
      tool_name: String(r.tool_name ?? ''),
      mcp_server: String(r.mcp_server ?? ''),
      loop_length: num(r.loop_length),
      result_tokens: num(r.result_tokens),
      wasted_tokens: num(r.wasted_tokens),
      carried_tokens: num(r.carried_tokens),
      direct_cost_nanos: direct.toString(),
      carried_cost_nanos: carried.toString(),
      cost_nanos: (direct + carried).toString(),
      cost_usd: nanosToUsdNumber(direct + carried),
      fully_priced: num(r.fully_priced) === 1,
    };
  });
}
