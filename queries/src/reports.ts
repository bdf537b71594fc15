/**
 * The cost and waste reports (cost-per-pr, cost --by, waste --by). The SQL machinery lives in
 * report-sql.ts, the window and filter parameters in report-window.ts, the data-quality reports in
 * report-checks.ts; their names are re-exported here for the modules that import them from here.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { readCostPerPrRowBinary, readCostPerPrTsv } from './cost-per-pr-rows.js';
import { withPrelinked } from './prelink.js';
import {
  num,
  reportSql,
  runReport,
  runReportBytes,
  runReportText,
  totals,
  PRELINKED_FRAGMENTS,
  PRELINKED_LIVE_WASTE_FRAGMENTS,
  PRELINKED_WHOLE_FRAGMENTS,
  type RawRow,
  type UsageTotals,
} from './report-sql.js';
import {
  linkedParams,
  windowParams,
  type LinkFilters,
  type LinkReadOptions,
  type ReportWindow,
} from './report-window.js';

export {
  num,
  reportSql,
  runReport,
  totals,
  PRELINKED_FRAGMENTS,
  PRELINKED_LIVE_WASTE_FRAGMENTS,
} from './report-sql.js';
export type { RawRow, UsageTotals } from './report-sql.js';
export {
  defaultWindow,
  filterParams,
  linkedParams,
  windowParams,
  DEFAULT_WINDOW_DAYS,
} from './report-window.js';
export type { LinkFilters, LinkReadOptions, ReportWindow } from './report-window.js';
export {
  costDrift,
  insertMetricPoints,
  metricsCheck,
  unpricedModels,
  usageCheck,
  COST_DRIFT_REASONS,
  DEFAULT_DRIFT_TOLERANCE_PERCENT,
} from './report-checks.js';
export type {
  CostDriftReason,
  CostDriftRow,
  MetricsCheckRow,
  UnpricedRow,
  UsageCheckRow,
} from './report-checks.js';
import {
  COST_BREAKDOWNS,
  COST_DIMENSIONS,
  WASTE_DIMENSIONS,
  type CostBreakdown,
  type CostDimension,
  type WasteDimension,
} from './dimensions.js';

export interface CostPerPrRow extends UsageTotals {
  repo: string;
  /** Pull request number; null for spans with no PR known (the unattributed bucket). */
  pr: number | null;
  /** Tokens of redundant calls on this PR (result tokens + the output spent to issue them). */
  wasted_tokens: number;
  /** Their direct and carried cost, integer nano-USD as a decimal string. */
  wasted_cost_nanos: string;
  wasted_cost_usd: number;
  first_seen: string;
  last_seen: string;
  /** Linkage rules that charged spend to this row: explicit, commit, branch, trailer, unattributed. */
  rules: string;
  /** The PR's state as of `until` from its GitHub facts: open, merged, closed; unknown without facts. */
  state: 'open' | 'merged' | 'closed' | 'unknown' | null;
  merged_at: string | null;
}

export function prState(pr: number | null, state: unknown): CostPerPrRow['state'] {
  if (pr === null) return null;
  return state === 'open' || state === 'merged' || state === 'closed' ? state : 'unknown';
}

export { COST_BREAKDOWNS, COST_DIMENSIONS };
export type { CostBreakdown, CostDimension };

/** One model's share of a cost row (`--breakdown model`); model '' holds tool calls (no model). */
export interface CostModelRow extends UsageTotals {
  model: string;
}

export interface CostByRow extends UsageTotals {
  by: CostDimension;
  key: string;
  /**
   * Only with `breakdown: 'model'`: the row's usage per model, most cost first. Tokens, calls and
   * cost add up to the row's; sessions do not (a session may use several models).
   */
  models?: CostModelRow[];
}

/**
 * Tokens and dollars per pull request.
 * @example const rows = await costPerPr(client, { db: 'harness_meter', ...defaultWindow() });
 */
export async function costPerPr(
  client: ClickHouseClient,
  options: { db: string } & LinkFilters & ReportWindow & LinkReadOptions,
): Promise<CostPerPrRow[]> {
  const params = linkedParams(options.db, options, options);
  const unfiltered = !options.repo && !options.team && !options.developer;
  return withPrelinked(
    client,
    options.db,
    String(params.until),
    async (pre, wasteLinked, probed) => {
      // Unfiltered, each PR the window holds whole is one row of its totals (migration 0023), and
      // only the PRs the window cuts are summed from hourly rows. When the check found nothing
      // marked (so no 'totals' mark either) and its bound says no PR crosses the window's edges,
      // the totals are read at once; otherwise pr_totals_cut.sql counts the cut PRs.
      const totalsPath = pre && wasteLinked && unfiltered;
      const [cut] =
        totalsPath && probed !== undefined && num(probed.whole) === 1
          ? [{ n: 0, stale: 0 }]
          : totalsPath
            ? await runReport(client, 'cost-per-pr', 'pr_totals_cut.sql', params)
            : [];
      if (cut !== undefined && num(cut.stale) === 0) {
        return readCostPerPrRowBinary(
          await runReportBytes(
            client,
            'cost-per-pr',
            'cost_per_pr_totals.sql',
            params,
            num(cut.n) === 0 ? PRELINKED_WHOLE_FRAGMENTS : PRELINKED_FRAGMENTS,
            'RowBinaryWithNamesAndTypes',
          ),
        );
      }
      // The fast path reads TSV with the reader made for these columns; the reference (links
      // computed in the query) keeps JSONEachRow and the generic conversion, so
      // test/integration/prelink.test.ts compares the two readers too.
      if (pre)
        return readCostPerPrTsv(
          await runReportText(
            client,
            'cost-per-pr',
            'cost_per_pr.sql',
            params,
            wasteLinked ? PRELINKED_FRAGMENTS : PRELINKED_LIVE_WASTE_FRAGMENTS,
          ),
        );
      return (await runReport(client, 'cost-per-pr', 'cost_per_pr.sql', params)).map(costPerPrRow);
    },
    options.prelinked,
    unfiltered ? { columns: `${reportSql('_pr_totals_whole.sql')} AS whole`, params } : undefined,
  );
}

/** One cost-per-pr row from the generic reader's string row (the reference path's conversion). */
export function costPerPrRow(r: RawRow): CostPerPrRow {
  return {
    repo: String(r.repo ?? ''),
    pr: num(r.pr) === 0 ? null : num(r.pr),
    ...totals(r),
    wasted_tokens: num(r.wasted_tokens),
    wasted_cost_nanos: BigInt(r.wasted_cost_nanos ?? 0).toString(),
    wasted_cost_usd: nanosToUsdNumber(BigInt(r.wasted_cost_nanos ?? 0)),
    first_seen: String(r.first_seen ?? ''),
    last_seen: String(r.last_seen ?? ''),
    rules: String(r.rules ?? ''),
    state: prState(num(r.pr) === 0 ? null : num(r.pr), r.state),
    merged_at: r.merged_at === null || r.merged_at === undefined ? null : String(r.merged_at),
  };
}

/** Most cost first, then by name: the order of cost rows and of their per-model rows. */
function byCostDesc(a: { cost_nanos: string }, b: { cost_nanos: string }): number {
  const d = BigInt(b.cost_nanos) - BigInt(a.cost_nanos);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/**
 * Tokens and dollars grouped by one dimension; with `breakdown: 'model'`, each row also carries
 * its per-model rows (`models`), computed in the same query so they add up to the row.
 * @example await costBy(client, { db: 'harness_meter', by: 'day', breakdown: 'model', ...defaultWindow() });
 */
export async function costBy(
  client: ClickHouseClient,
  options: { db: string; by: CostDimension; breakdown?: CostBreakdown } & ReportWindow,
): Promise<CostByRow[]> {
  if (!COST_DIMENSIONS.includes(options.by)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Unknown dimension ${JSON.stringify(options.by)}: use one of ${COST_DIMENSIONS.join(', ')}.`,
    );
  }
  const params = { ...windowParams(options.db, options), by: options.by };
  if (options.breakdown === undefined) {
    const rows = await runReport(client, `cost-by-${options.by}`, 'cost_by.sql', params);
    return rows.map((r) => ({ by: options.by, key: String(r.key ?? ''), ...totals(r) }));
  }
  if (!COST_BREAKDOWNS.includes(options.breakdown)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Unknown breakdown ${JSON.stringify(options.breakdown)}: use one of ${COST_BREAKDOWNS.join(', ')}.`,
    );
  }
  const raw = await runReport(
    client,
    `cost-by-${options.by}-breakdown-${options.breakdown}`,
    'cost_by_breakdown.sql',
    params,
  );
  const parents = new Map<string, CostByRow & { models: CostModelRow[] }>();
  for (const r of raw)
    if (num(r.is_model) === 0) {
      const key = String(r.key ?? '');
      parents.set(key, { by: options.by, key, ...totals(r), models: [] });
    }
  for (const r of raw)
    if (num(r.is_model) === 1)
      parents.get(String(r.key ?? ''))?.models.push({ model: String(r.model ?? ''), ...totals(r) });
  const rows = [...parents.values()];
  for (const row of rows)
    row.models.sort((a, b) => byCostDesc(a, b) || a.model.localeCompare(b.model));
  return rows.sort((a, b) => byCostDesc(a, b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export { WASTE_DIMENSIONS };
export type { WasteDimension };

export interface WasteRow {
  by: WasteDimension;
  key: string;
  occurrences: number;
  sessions: number;
  wasted_tokens: number;
  carried_tokens: number;
  direct_cost_nanos: string;
  carried_cost_nanos: string;
  /** direct + carried, in dollars */
  cost_usd: number;
  cost_nanos: string;
  max_loop_length: number;
}

/** Redundant calls (latest scan of each session) grouped by one dimension. */
export async function wasteBy(
  client: ClickHouseClient,
  options: { db: string; by: WasteDimension } & ReportWindow,
): Promise<WasteRow[]> {
  if (!WASTE_DIMENSIONS.includes(options.by)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Unknown dimension ${JSON.stringify(options.by)}: use one of ${WASTE_DIMENSIONS.join(', ')}.`,
    );
  }
  const rows = await runReport(client, `waste-by-${options.by}`, 'waste_by.sql', {
    ...windowParams(options.db, options),
    by: options.by,
  });
  return rows.map((r) => {
    const direct = BigInt(r.direct_cost_nanos ?? 0);
    const carried = BigInt(r.carried_cost_nanos ?? 0);
    return {
      by: options.by,
      key: String(r.key ?? ''),
      occurrences: num(r.occurrences),
      sessions: num(r.sessions),
      wasted_tokens: num(r.wasted_tokens),
      carried_tokens: num(r.carried_tokens),
      direct_cost_nanos: direct.toString(),
      carried_cost_nanos: carried.toString(),
      cost_nanos: (direct + carried).toString(),
      cost_usd: nanosToUsdNumber(direct + carried),
      max_loop_length: num(r.max_loop_length),
    };
  });
}
