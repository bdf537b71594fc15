import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { withPrelinked } from './prelink.js';
import { assertDatabaseName, toClickHouseTime } from './sql.js';
import { parseTsvWithNames } from './tsv.js';

const REPORTS_DIR = fileURLToPath(new URL('../reports/', import.meta.url));
const sqlCache = new Map<string, string>();

/** Variants of an included fragment (include marker with `:name`): a marker replaced by more SQL. */
const FRAGMENT_VARIANTS: Record<string, { marker: string; file: string }> = {
  // cost-per-pr: redundancy findings join the linked stream, so the same rules charge the waste.
  with_waste: { marker: '/*waste_rows*/', file: '_waste_rows.sql' },
  // prelink_waste.sql: only the findings of what is being re-linked.
  relink: { marker: '/*findings_filter*/', file: '_waste_relink_filter.sql' },
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
        if (depth > 3)
          throw new StoreError('INVALID_ARGUMENT', `Fragments nest too deep in ${file}.`);
        const body = reportSql(swap?.[name] ?? name, depth + 1, swap);
        const variant = filter === undefined ? undefined : FRAGMENT_VARIANTS[filter];
        if (filter !== undefined && variant === undefined)
          throw new StoreError(
            'INVALID_ARGUMENT',
            `Unknown fragment variant ${filter} in ${file}.`,
          );
        return `\n${variant === undefined ? body : body.replace(variant.marker, () => reportSql(swap?.[variant.file] ?? variant.file, depth + 1, swap))}\n`;
      },
    );
    sqlCache.set(key, sql);
  }
  return sql;
}

/** The time window of a report: [since, until). */
export interface ReportWindow {
  since: Date;
  until: Date;
}

/** Default window: the last 30 days up to now (plus a minute, so spans of this minute count). */
export const DEFAULT_WINDOW_DAYS = 30;
export function defaultWindow(now: Date = new Date()): ReportWindow {
  return {
    since: new Date(now.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000),
    until: new Date(now.getTime() + 60_000),
  };
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

/** Filters every linked report takes (repository: URL or owner/name). */
export interface LinkFilters {
  repo?: string;
  team?: string;
  developer?: string;
}

/** How a linked report reads (cost-per-pr, linkage, cost-per-merged-pr, the dashboard's PR sessions). */
export interface LinkReadOptions {
  /**
   * Read spend already charged to its PR (usage_linked_hour, re-linked first when something changed);
   * false computes the links from the PR facts in the query, as of `until` (the reference).
   * @default true
   */
  prelinked?: boolean;
}

export function filterParams(f: LinkFilters): Record<string, string> {
  return { repo: f.repo ?? '', team: f.team ?? '', developer: f.developer ?? '' };
}

export function prState(pr: number | null, state: unknown): CostPerPrRow['state'] {
  if (pr === null) return null;
  return state === 'open' || state === 'merged' || state === 'closed' ? state : 'unknown';
}

export const COST_DIMENSIONS = [
  'developer',
  'team',
  'repo',
  'model',
  'provider',
  'source',
  'day',
  'month',
  'session',
] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

/** Second dimensions of `cost --breakdown`: each row's usage split again, by model. */
export const COST_BREAKDOWNS = ['model'] as const;
export type CostBreakdown = (typeof COST_BREAKDOWNS)[number];

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
  try {
    const query = {
      query: reportSql(file, 0, swap),
      query_params: params,
      clickhouse_settings: { log_comment: `harness-meter report ${report}` },
    };
    if (tsv)
      return parseTsvWithNames(
        await (await client.query({ ...query, format: 'TabSeparatedWithNames' })).text(),
      );
    const rs = await client.query({ ...query, format: 'JSONEachRow' });
    return await rs.json<RawRow>();
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Report ${report} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
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

export function windowParams(db: string, window: ReportWindow): Record<string, unknown> {
  assertDatabaseName(db);
  if (!(window.since < window.until)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Empty report window: since (${window.since.toISOString()}) must be before until (${window.until.toISOString()}).`,
    );
  }
  return { db, since: toClickHouseTime(window.since), until: toClickHouseTime(window.until) };
}

/**
 * Tokens and dollars per pull request.
 * @example const rows = await costPerPr(client, { db: 'harness_meter', ...defaultWindow() });
 */
export async function costPerPr(
  client: ClickHouseClient,
  options: { db: string } & LinkFilters & ReportWindow & LinkReadOptions,
): Promise<CostPerPrRow[]> {
  const params = windowParams(options.db, options);
  const rows = await withPrelinked(
    client,
    options.db,
    String(params.until),
    (pre, wasteLinked) =>
      runReport(
        client,
        'cost-per-pr',
        'cost_per_pr.sql',
        { ...params, span_since: params.since, ...filterParams(options) },
        !pre ? undefined : wasteLinked ? PRELINKED_FRAGMENTS : PRELINKED_LIVE_WASTE_FRAGMENTS,
        // The fast path reads TSV; the reference (links computed in the query) keeps JSONEachRow,
        // so test/integration/prelink.test.ts compares the two readers too.
        pre,
      ),
    options.prelinked,
  );
  return rows.map((r) => ({
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
  }));
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

export const WASTE_DIMENSIONS = [
  'kind',
  'tool',
  'mcp_server',
  'session',
  'developer',
  'team',
  'repo',
  'pr',
] as const;
export type WasteDimension = (typeof WASTE_DIMENSIONS)[number];

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

/** A model seen without a price: its calls are stored with no cost (unknown, never $0). */
export interface UnpricedRow {
  model: string;
  provider: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  first_seen: string;
  last_seen: string;
}

/**
 * Models seen without a price in the window, most calls first.
 * @example const rows = await unpricedModels(client, { db: 'harness_meter', ...defaultWindow() });
 */
export async function unpricedModels(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow,
): Promise<UnpricedRow[]> {
  const rows = await runReport(
    client,
    'unpriced',
    'unpriced.sql',
    windowParams(options.db, options),
  );
  return rows.map((r) => ({
    model: String(r.model ?? ''),
    provider: String(r.provider ?? ''),
    calls: num(r.calls),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    first_seen: String(r.first_seen ?? ''),
    last_seen: String(r.last_seen ?? ''),
  }));
}

/** LLM calls of one model whose usage parts do not add up (usage_check.sql). */
export interface UsageCheckRow {
  model: string;
  provider: string;
  source: string;
  /** `cache_exceeds_input` or `cache_split_mismatch`. */
  check: string;
  calls: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  example_trace: string;
  first_seen: string;
  last_seen: string;
}

/**
 * Calls flagged at decode because their usage parts do not add up, by model and check.
 * @example const rows = await usageCheck(client, { db: 'harness_meter', ...defaultWindow() });
 */
export async function usageCheck(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow,
): Promise<UsageCheckRow[]> {
  const rows = await runReport(
    client,
    'usage-check',
    'usage_check.sql',
    windowParams(options.db, options),
  );
  return rows.map((r) => ({
    model: String(r.model ?? ''),
    provider: String(r.provider ?? ''),
    source: String(r.source ?? ''),
    check: String(r.check ?? ''),
    calls: num(r.calls),
    input_tokens: num(r.input_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    example_trace: String(r.example_trace ?? ''),
    first_seen: String(r.first_seen ?? ''),
    last_seen: String(r.last_seen ?? ''),
  }));
}

export const COST_DRIFT_REASONS = ['missing price', 'cache accounting', 'tier', 'other'] as const;
export type CostDriftReason = (typeof COST_DRIFT_REASONS)[number];

/** Calls of one model whose reported cost differs from the computed one, for one reason. */
export interface CostDriftRow {
  model: string;
  provider: string;
  reason: CostDriftReason;
  calls: number;
  /** Sum of the producers' reported costs, integer nano-USD as a decimal string. */
  reported_nanos: string;
  /** Sum of the computed costs (0 for calls with no price), nano-USD. */
  computed_nanos: string;
  /** reported − computed, nano-USD (negative: the producer reported less). */
  drift_nanos: string;
  reported_usd: number;
  computed_usd: number;
  drift_usd: number;
  first_seen: string;
  last_seen: string;
}

/** Default tolerance of cost-drift, in percent of the computed cost. */
export const DEFAULT_DRIFT_TOLERANCE_PERCENT = 1;

/**
 * Where a reported cost differs from the computed one by more than `tolerancePercent` (of the
 * computed cost; 0 to 1000, at most 2 decimals), grouped by model, provider and reason.
 * @example await costDrift(client, { db: 'harness_meter', tolerancePercent: 2, ...defaultWindow() });
 */
export async function costDrift(
  client: ClickHouseClient,
  options: { db: string; tolerancePercent?: number } & ReportWindow,
): Promise<CostDriftRow[]> {
  const pct = options.tolerancePercent ?? DEFAULT_DRIFT_TOLERANCE_PERCENT;
  const bp = Math.round(pct * 100);
  if (!Number.isFinite(pct) || pct < 0 || pct > 1000 || Math.abs(bp - pct * 100) > 1e-6) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Tolerance ${String(pct)} is not valid: a percentage from 0 to 1000 with at most 2 decimals, e.g. 1 or 2.5.`,
    );
  }
  const rows = await runReport(client, 'cost-drift', 'cost_drift.sql', {
    ...windowParams(options.db, options),
    tolerance_bp: bp,
  });
  return rows.map((r) => {
    const reported = BigInt(r.reported_nanos ?? 0);
    const computed = BigInt(r.computed_nanos ?? 0);
    const drift = BigInt(r.drift_nanos ?? 0);
    return {
      model: String(r.model ?? ''),
      provider: String(r.provider ?? ''),
      reason: String(r.reason ?? 'other') as CostDriftReason,
      calls: num(r.calls),
      reported_nanos: reported.toString(),
      computed_nanos: computed.toString(),
      drift_nanos: drift.toString(),
      reported_usd: nanosToUsdNumber(reported),
      computed_usd: nanosToUsdNumber(computed),
      drift_usd: nanosToUsdNumber(drift),
      first_seen: String(r.first_seen ?? ''),
      last_seen: String(r.last_seen ?? ''),
    };
  });
}

/** An agent session's own usage counters beside the totals of its stored events. */
export interface MetricsCheckRow {
  session_id: string;
  source: string;
  metric_input_tokens: number;
  event_input_tokens: number;
  metric_output_tokens: number;
  event_output_tokens: number;
  metric_cache_read_tokens: number;
  event_cache_read_tokens: number;
  metric_cache_creation_tokens: number;
  event_cache_creation_tokens: number;
  metric_cost_nanos: string;
  event_reported_cost_nanos: string;
  event_computed_cost_nanos: string;
  /** 'match' when tokens agree and the costs agree within 1%; else what differs. */
  status: string;
}

/** Cross-checks agents' usage metrics against their events (the metrics are never counted as spend). */
export async function metricsCheck(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow,
): Promise<MetricsCheckRow[]> {
  const rows = await runReport(
    client,
    'metrics-check',
    'metrics_check.sql',
    windowParams(options.db, options),
  );
  return rows.map((r) => {
    const row = {
      session_id: String(r.session_id ?? ''),
      source: String(r.source ?? ''),
      metric_input_tokens: num(r.metric_input_tokens),
      event_input_tokens: num(r.event_input_tokens),
      metric_output_tokens: num(r.metric_output_tokens),
      event_output_tokens: num(r.event_output_tokens),
      metric_cache_read_tokens: num(r.metric_cache_read_tokens),
      event_cache_read_tokens: num(r.event_cache_read_tokens),
      metric_cache_creation_tokens: num(r.metric_cache_creation_tokens),
      event_cache_creation_tokens: num(r.event_cache_creation_tokens),
      metric_cost_nanos: String(r.metric_cost_nanos ?? '0'),
      event_reported_cost_nanos: String(r.event_reported_cost_nanos ?? '0'),
      event_computed_cost_nanos: String(r.event_computed_cost_nanos ?? '0'),
    };
    const diffs: string[] = [];
    if (row.metric_input_tokens !== row.event_input_tokens) diffs.push('input');
    if (row.metric_output_tokens !== row.event_output_tokens) diffs.push('output');
    if (row.metric_cache_read_tokens !== row.event_cache_read_tokens) diffs.push('cache read');
    if (row.metric_cache_creation_tokens !== row.event_cache_creation_tokens)
      diffs.push('cache creation');
    const mc = BigInt(row.metric_cost_nanos);
    const rc = BigInt(row.event_reported_cost_nanos);
    const gap = mc > rc ? mc - rc : rc - mc;
    if (gap * 100n > (rc > 0n ? rc : 1n)) diffs.push('cost');
    return { ...row, status: diffs.length === 0 ? 'match' : `differs: ${diffs.join(', ')}` };
  });
}

/** Stores agents' usage counter points (see decodeMetricsRequest in the pipeline). */
export async function insertMetricPoints(
  client: ClickHouseClient,
  db: string,
  points: readonly object[],
): Promise<void> {
  assertDatabaseName(db);
  if (points.length === 0) return;
  try {
    await client.insert({
      table: `${db}.agent_metric_points`,
      values: [...points],
      format: 'JSONEachRow',
    });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Storing metric points failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}
