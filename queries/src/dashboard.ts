import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { withPrelinked } from './prelink.js';
import { assertDatabaseName, toClickHouseTime } from './sql.js';
import {
  linkedParams,
  num,
  runReport,
  totals,
  windowParams,
  PRELINKED_FRAGMENTS,
  type LinkReadOptions,
  type RawRow,
  type ReportWindow,
  type UsageTotals,
} from './reports.js';

/** The dashboard's global filters (empty or absent = all). */
export interface DashboardFilters {
  repo?: string;
  team?: string;
  developer?: string;
  model?: string;
}

export const SERIES_DIMENSIONS = ['model', 'team', 'developer', 'repo'] as const;
export type SeriesDimension = (typeof SERIES_DIMENSIONS)[number];

/** Bucket widths the time series accept, in seconds (1 minute to 1 week). */
export const MIN_STEP_SECONDS = 60;
export const MAX_STEP_SECONDS = 7 * 86_400;

/** Totals of the window: tokens by kind, calls, cost and unpriced calls (`sessions` is not counted: 0). */
export interface DashboardSummary extends UsageTotals {
  /** Input tokens that were neither cache reads nor cache writes. */
  fresh_input_tokens: number;
}

export interface SeriesPoint {
  /** Bucket start, `YYYY-MM-DD hh:mm:ss` UTC. */
  bucket: string;
  key: string;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_nanos: string;
  cost_usd: number;
  unpriced_calls: number;
}

export interface WasteSeriesPoint {
  bucket: string;
  /** Kind of redundant call. */
  key: string;
  occurrences: number;
  wasted_tokens: number;
  direct_cost_nanos: string;
  carried_cost_nanos: string;
  direct_cost_usd: number;
  carried_cost_usd: number;
}

export interface PrSessionRow {
  session_id: string;
  developer: string;
  team: string;
  intent: string;
  branch: string;
  llm_calls: number;
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_nanos: string;
  cost_usd: number;
  unpriced_calls: number;
  first_seen: string;
  last_seen: string;
  rules: string;
}

/** One span of a session, with its cost parts, price row and the waste finding that flags it. */
export interface SessionSpanRow {
  span_id: string;
  parent_span_id: string;
  trace_id: string;
  name: string;
  span_type: string;
  tool_name: string;
  tool_class: string;
  model: string;
  provider: string;
  start: string;
  start_ms: number;
  duration_ms: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  result_tokens: number;
  /** null: not an LLM call, or unpriced (unknown, never $0). */
  cost_nanos: string | null;
  cost_usd: number | null;
  input_cost_nanos: string | null;
  output_cost_nanos: string | null;
  cache_read_cost_nanos: string | null;
  cache_write_cost_nanos: string | null;
  price_id: string;
  unpriced: boolean;
  is_error: boolean;
  developer: string;
  team: string;
  repo: string;
  branch: string;
  pr: number | null;
  /** The redundancy finding on this call, if any. */
  waste: {
    kind: string;
    repeats_span_id: string;
    wasted_tokens: number;
    direct_cost_nanos: string;
    carried_cost_nanos: string;
    direct_cost_usd: number;
    carried_cost_usd: number;
    loop_length: number;
  } | null;
}

const HOUR_MS = 3_600_000;

/**
 * Where _usage_hourly.sql reads [since, until) at minute granularity (as `report cost`): whole hours
 * [hourFrom, hourTo) from the hourly rollup, and the minutes [since, minuteTo) and [minuteFrom, until)
 * from the per-minute one. `hourly` false reads minutes only (buckets under an hour).
 */
export function usageBounds(
  window: ReportWindow,
  hourly: boolean,
): { hourFrom: Date; hourTo: Date; minuteTo: Date; minuteFrom: Date } {
  const s = Math.floor(window.since.getTime() / 60_000) * 60_000;
  const u = window.until.getTime();
  const hs = Math.ceil(s / HOUR_MS) * HOUR_MS;
  const he = Math.floor(u / HOUR_MS) * HOUR_MS;
  if (!hourly || hs >= he)
    return {
      hourFrom: new Date(0),
      hourTo: new Date(0),
      minuteTo: window.until,
      minuteFrom: window.until,
    };
  return {
    hourFrom: new Date(hs),
    hourTo: new Date(he),
    minuteTo: new Date(hs),
    minuteFrom: new Date(he),
  };
}

function dashParams(
  db: string,
  window: ReportWindow,
  f: DashboardFilters,
  hourly = true,
): Record<string, unknown> {
  const b = usageBounds(window, hourly);
  const seconds = (d: Date): string => toClickHouseTime(d).slice(0, 19);
  return {
    ...linkedParams(db, window, f),
    model: f.model ?? '',
    hour_from: seconds(b.hourFrom),
    hour_to: seconds(b.hourTo),
    minute_to: toClickHouseTime(b.minuteTo),
    minute_from: toClickHouseTime(b.minuteFrom),
  };
}

/** The values each filter takes in a window, most spend first. */
export interface DashboardFilterValues {
  repo: string[];
  team: string[];
  developer: string[];
  model: string[];
}

/**
 * The whole hours [hour_from, hour_to) inside [since, until), to the second (both the epoch when none:
 * then the partial-hour part reads the whole window).
 */
function wholeHours(window: ReportWindow): { hour_from: string; hour_to: string } {
  const from = Math.ceil(window.since.getTime() / HOUR_MS) * HOUR_MS;
  const to = Math.floor(window.until.getTime() / HOUR_MS) * HOUR_MS;
  const seconds = (ms: number): string => toClickHouseTime(new Date(ms)).slice(0, 19);
  return from < to
    ? { hour_from: seconds(from), hour_to: seconds(to) }
    : { hour_from: seconds(0), hour_to: seconds(0) };
}

function checkStep(step: number): number {
  if (!Number.isInteger(step) || step < MIN_STEP_SECONDS || step > MAX_STEP_SECONDS)
    throw new StoreError(
      'INVALID_ARGUMENT',
      `step ${String(step)} is not valid: whole seconds from ${String(MIN_STEP_SECONDS)} to ${String(MAX_STEP_SECONDS)}, e.g. 3600.`,
    );
  return step;
}

/** A bucket width that gives about `points` buckets over the window (whole minutes, hours or days). */
export function autoStep(window: ReportWindow, points = 60): number {
  const raw = (window.until.getTime() - window.since.getTime()) / 1000 / points;
  const steps = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];
  return steps.find((s) => s >= raw) ?? MAX_STEP_SECONDS;
}

const nullableNanos = (v: RawRow[string] | undefined): string | null =>
  v === null || v === undefined ? null : BigInt(v).toString();

/** Totals of the window with the dashboard's filters (reads the per-minute rollup, like `cost --by`). */
export async function dashboardSummary(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow & DashboardFilters,
): Promise<DashboardSummary> {
  const [r] = await runReport(
    client,
    'dashboard-summary',
    'dash_summary.sql',
    dashParams(options.db, options, options),
  );
  const t = totals(r ?? {});
  return {
    ...t,
    fresh_input_tokens: Math.max(0, t.input_tokens - t.cache_read_tokens - t.cache_write_tokens),
  };
}

/** Cost and tokens per bucket and key (model, team, developer or repo). */
export async function costSeries(
  client: ClickHouseClient,
  options: { db: string; by: SeriesDimension; step: number } & ReportWindow & DashboardFilters,
): Promise<SeriesPoint[]> {
  if (!SERIES_DIMENSIONS.includes(options.by))
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Unknown series dimension ${JSON.stringify(options.by)}: use one of ${SERIES_DIMENSIONS.join(', ')}.`,
    );
  const step = checkStep(options.step);
  const rows = await runReport(client, `dashboard-series-${options.by}`, 'dash_timeseries.sql', {
    ...dashParams(options.db, options, options, step % 3600 === 0),
    by: options.by,
    step,
  });
  return rows.map((r) => {
    const cost = BigInt(r.cost_nanos ?? 0);
    return {
      bucket: String(r.bucket ?? ''),
      key: String(r.key ?? ''),
      llm_calls: num(r.llm_calls),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cache_read_tokens: num(r.cache_read_tokens),
      cache_write_tokens: num(r.cache_write_tokens),
      cost_nanos: cost.toString(),
      cost_usd: nanosToUsdNumber(cost),
      unpriced_calls: num(r.unpriced_calls),
    };
  });
}

/** Values of the filters in the window (hour granularity), most spend first. */
export async function dashboardFilters(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow,
): Promise<DashboardFilterValues> {
  const rows = await runReport(
    client,
    'dashboard-filters',
    'dash_filters.sql',
    windowParams(options.db, options),
  );
  const out: DashboardFilterValues = { repo: [], team: [], developer: [], model: [] };
  for (const r of rows) {
    const d = String(r.dimension ?? '');
    if (d === 'repo' || d === 'team' || d === 'developer' || d === 'model')
      out[d].push(String(r.value ?? ''));
  }
  return out;
}

/** Redundant calls per bucket and kind (repo, team and developer filters; findings carry no model). */
export async function wasteSeries(
  client: ClickHouseClient,
  options: { db: string; step: number } & ReportWindow & DashboardFilters & LinkReadOptions,
): Promise<WasteSeriesPoint[]> {
  const step = checkStep(options.step);
  const params: Record<string, unknown> = { ...dashParams(options.db, options, options), step };
  // Buckets of whole hours read the hourly table (migration 0023) once the re-link has brought it up
  // to date, and the findings only in the window's partial first and last hours; other buckets, and
  // `prelinked: false` (the reference), read every finding.
  const rows =
    step % 3_600 !== 0 || options.prelinked === false
      ? await runReport(client, 'dashboard-waste-series', 'dash_waste_series.sql', params)
      : await withPrelinked(client, options.db, String(params.until), () =>
          runReport(client, 'dashboard-waste-series', 'dash_waste_series_hourly.sql', {
            ...params,
            ...wholeHours(options),
          }),
        );
  return rows.map((r) => {
    const direct = BigInt(r.direct_cost_nanos ?? 0);
    const carried = BigInt(r.carried_cost_nanos ?? 0);
    return {
      bucket: String(r.bucket ?? ''),
      key: String(r.key ?? ''),
      occurrences: num(r.occurrences),
      wasted_tokens: num(r.wasted_tokens),
      direct_cost_nanos: direct.toString(),
      carried_cost_nanos: carried.toString(),
      direct_cost_usd: nanosToUsdNumber(direct),
      carried_cost_usd: nanosToUsdNumber(carried),
    };
  });
}

/** The sessions the linkage rules charge to one PR (pr null: the unattributed bucket of `repo`). */
export async function prSessions(
  client: ClickHouseClient,
  options: { db: string; prRepo: string; pr: number | null } & ReportWindow &
    DashboardFilters &
    LinkReadOptions,
): Promise<PrSessionRow[]> {
  const pr = options.pr ?? 0;
  if (!Number.isInteger(pr) || pr < 0 || pr > 4_294_967_295)
    throw new StoreError('INVALID_ARGUMENT', `pr ${String(pr)} is not a PR number, e.g. 101.`);
  const params = linkedParams(options.db, options, options);
  const rows = await withPrelinked(
    client,
    options.db,
    String(params.until),
    (pre) =>
      runReport(
        client,
        'dashboard-pr-sessions',
        'dash_pr_sessions.sql',
        { ...params, pr, pr_repo: options.prRepo },
        pre ? PRELINKED_FRAGMENTS : undefined,
      ),
    options.prelinked,
  );
  return rows.map((r) => {
    const cost = BigInt(r.cost_nanos ?? 0);
    return {
      session_id: String(r.session_id ?? ''),
      developer: String(r.developer ?? ''),
      team: String(r.team ?? ''),
      intent: String(r.intent ?? ''),
      branch: String(r.branch ?? ''),
      llm_calls: num(r.llm_calls),
      tool_calls: num(r.tool_calls),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cache_read_tokens: num(r.cache_read_tokens),
      cache_write_tokens: num(r.cache_write_tokens),
      cost_nanos: cost.toString(),
      cost_usd: nanosToUsdNumber(cost),
      unpriced_calls: num(r.unpriced_calls),
      first_seen: String(r.first_seen ?? ''),
      last_seen: String(r.last_seen ?? ''),
      rules: String(r.rules ?? ''),
    };
  });
}

/** Every span of one session, oldest first, with cost parts, price rows and waste findings. */
export async function sessionTimeline(
  client: ClickHouseClient,
  options: { db: string; session: string },
): Promise<SessionSpanRow[]> {
  assertDatabaseName(options.db);
  if (options.session.trim() === '')
    throw new StoreError('INVALID_ARGUMENT', 'session is empty: pass a session id.');
  const rows = await runReport(client, 'dashboard-session', 'dash_session.sql', {
    db: options.db,
    session: options.session,
  });
  return rows.map((r) => {
    const cost = nullableNanos(r.cost_nanos);
    const kind = r.waste_kind === null || r.waste_kind === undefined ? '' : String(r.waste_kind);
    const direct = BigInt(r.waste_direct_nanos ?? 0);
    const carried = BigInt(r.waste_carried_nanos ?? 0);
    return {
      span_id: String(r.span_id ?? ''),
      parent_span_id: String(r.parent_span_id ?? ''),
      trace_id: String(r.trace_id ?? ''),
      name: String(r.name ?? ''),
      span_type: String(r.span_type ?? ''),
      tool_name: String(r.tool_name ?? ''),
      tool_class: String(r.tool_class ?? ''),
      model: String(r.model ?? ''),
      provider: String(r.provider ?? ''),
      start: String(r.start ?? ''),
      start_ms: num(r.start_ms),
      duration_ms: num(r.duration_ms),
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cache_read_tokens: num(r.cache_read_tokens),
      cache_write_tokens: num(r.cache_write_tokens),
      reasoning_tokens: num(r.reasoning_tokens),
      result_tokens: num(r.result_tokens),
      cost_nanos: cost,
      cost_usd: cost === null ? null : nanosToUsdNumber(BigInt(cost)),
      input_cost_nanos: nullableNanos(r.input_cost_nanos),
      output_cost_nanos: nullableNanos(r.output_cost_nanos),
      cache_read_cost_nanos: nullableNanos(r.cache_read_cost_nanos),
      cache_write_cost_nanos: nullableNanos(r.cache_write_cost_nanos),
      price_id: String(r.price_id ?? ''),
      unpriced: num(r.unpriced) === 1,
      is_error: num(r.is_error) === 1,
      developer: String(r.developer ?? ''),
      team: String(r.team ?? ''),
      repo: String(r.repo ?? ''),
      branch: String(r.branch ?? ''),
      pr: num(r.pr) === 0 ? null : num(r.pr),
      waste:
        kind === ''
          ? null
          : {
              kind,
              repeats_span_id: String(r.repeats_span_id ?? ''),
              wasted_tokens: num(r.wasted_tokens),
              direct_cost_nanos: direct.toString(),
              carried_cost_nanos: carried.toString(),
              direct_cost_usd: nanosToUsdNumber(direct),
              carried_cost_usd: nanosToUsdNumber(carried),
              loop_length: num(r.loop_length),
            },
    };
  });
}
