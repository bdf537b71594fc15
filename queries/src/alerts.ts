import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { formatUsd, nanosToUsdNumber } from './money.js';
import { assertDatabaseName, toClickHouseTime } from './sql.js';
import type { ReportWindow } from './reports.js';

const cache = new Map<string, string>();
function sqlOf(file: string): string {
  let s = cache.get(file);
  if (s === undefined) {
    s = readFileSync(fileURLToPath(new URL(`../reports/${file}`, import.meta.url)), 'utf8');
    cache.set(file, s);
  }
  return s;
}

async function select<T>(
  client: ClickHouseClient,
  db: string,
  file: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  assertDatabaseName(db);
  try {
    const rs = await client.query({
      query: sqlOf(file),
      query_params: { db, ...params },
      format: 'JSONEachRow',
      clickhouse_settings: { log_comment: `harness-meter ${file}` },
    });
    return await rs.json<T>();
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Alert query ${file} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

const t = toClickHouseTime;

/** Who a spend figure belongs to. */
export type SpendScope = 'developer' | 'team' | 'repo' | 'session';

export interface SpendRow {
  key: string;
  team: string;
  developer: string;
  repo: string;
  cost_nanos: bigint;
  tokens: number;
  llm_calls: number;
  unpriced_calls: number;
}

/** Spend and tokens per entity of a scope in [since, until) (minute granularity, from the rollups). */
export async function spendBy(
  client: ClickHouseClient,
  db: string,
  o: { scope: SpendScope } & ReportWindow,
): Promise<SpendRow[]> {
  // Whole hours inside the window come from the hourly rollup (no sessions there).
  const HOUR = 3_600_000;
  const hSince = Math.ceil(o.since.getTime() / HOUR) * HOUR;
  const hUntil = Math.floor(o.until.getTime() / HOUR) * HOUR;
  const hourly = o.scope !== 'session' && hUntil > hSince;
  const rows = await select<Record<string, string | number>>(client, db, 'alerts_spend.sql', {
    scope: o.scope,
    since: t(o.since),
    until: t(o.until),
    h_since: t(hourly ? new Date(hSince) : o.until),
    h_until: t(hourly ? new Date(hUntil) : o.until),
  });
  return rows.map((r) => ({
    key: String(r.key),
    team: String(r.last_team),
    developer: String(r.last_developer),
    repo: String(r.last_repo),
    cost_nanos: BigInt(r.cost ?? 0),
    tokens: Number(r.tokens),
    llm_calls: Number(r.calls),
    unpriced_calls: Number(r.unpriced),
  }));
}

export interface WeeklySpendRow {
  key: string;
  team: string;
  /** weeks back (1 = the same window 7 days ago) */
  k: number;
  cost_nanos: bigint;
}

/** Spend per entity and team in the same trailing window of each of the past `weeks` weeks. */
export async function spendInPastWeeks(
  client: ClickHouseClient,
  db: string,
  o: { scope: Exclude<SpendScope, 'session'>; now: Date; weeks: number; windowMinutes: number },
): Promise<WeeklySpendRow[]> {
  // One bounded query per week (not one scan of every week in between); ordered by key, team, k.
  const rows: Record<string, string | number>[] = [];
  for (let k = 1; k <= o.weeks; k++)
    rows.push(
      ...(await select<Record<string, string | number>>(client, db, 'alerts_spend_weeks.sql', {
        scope: o.scope,
        now: t(o.now),
        k,
        window_minutes: o.windowMinutes,
      })),
    );
  rows.sort((a, b) =>
    String(a.key) !== String(b.key)
      ? String(a.key) < String(b.key)
        ? -1
        : 1
      : String(a.team) !== String(b.team)
        ? String(a.team) < String(b.team)
          ? -1
          : 1
        : Number(a.k) - Number(b.k),
  );
  return rows.map((r) => ({
    key: String(r.key),
    team: String(r.team),
    k: Number(r.k),
    cost_nanos: BigInt(r.cost ?? 0),
  }));
}

/** The first minute with stored usage, or undefined for an empty store. */
export async function firstUsageMinute(
  client: ClickHouseClient,
  db: string,
): Promise<Date | undefined> {
  const [r] = await select<{ n: string; first_minute: string }>(
    client,
    db,
    'alerts_first_minute.sql',
    {},
  );
  if (!r || Number(r.n) === 0) return undefined;
  return new Date(`${r.first_minute.replace(' ', 'T')}Z`);
}

/**
 * LLM calls without a price in the minutes overlapping [since, until), from the rollup: a cheap
 * pre-check, so the unpriced rule reads spans only when there is something to find.
 */
export async function unpricedCallsInRollup(
  client: ClickHouseClient,
  db: string,
  o: ReportWindow,
): Promise<number> {
  const [r] = await select<{ calls: string }>(client, db, 'alerts_unpriced_calls.sql', {
    since: t(o.since),
    until: t(o.until),
  });
  return Number(r?.calls ?? 0);
}

/** Wasted nano-USD (direct + carried, latest scans) per repo or team in [since, until). */
export async function wasteCostBy(
  client: ClickHouseClient,
  db: string,
  o: { scope: 'repo' | 'team' } & ReportWindow,
): Promise<{ key: string; cost_nanos: bigint }[]> {
  const rows = await select<{ key: string; cost: string }>(client, db, 'alerts_waste.sql', {
    scope: o.scope,
    since: t(o.since),
    until: t(o.until),
  });
  return rows.map((r) => ({ key: String(r.key), cost_nanos: BigInt(r.cost ?? 0) }));
}

export interface LoopFindingRow {
  session_id: string;
  kind: string;
  occurrences: number;
  max_loop_length: number;
  developer: string;
  team: string;
  repo: string;
  cost_nanos: bigint;
}

/** Findings of the given kinds per session and kind in [since, until), latest scans only. */
export async function loopFindings(
  client: ClickHouseClient,
  db: string,
  o: { kinds: readonly string[] } & ReportWindow,
): Promise<LoopFindingRow[]> {
  const rows = await select<Record<string, string | number>>(client, db, 'alerts_loops.sql', {
    kinds: [...o.kinds],
    since: t(o.since),
    until: t(o.until),
  });
  return rows.map((r) => ({
    session_id: String(r.session_id),
    kind: String(r.kind),
    occurrences: Number(r.occurrences),
    max_loop_length: Number(r.max_loop_length),
    developer: String(r.dev),
    team: String(r.team_name),
    repo: String(r.repo_name),
    cost_nanos: BigInt(r.cost ?? 0),
  }));
}

export interface TopSessionRow {
  session_id: string;
  developer: string;
  cost_nanos: string;
  cost_usd: number;
  llm_calls: number;
  tool_calls: number;
  tokens: number;
}

/** The sessions behind an alert: one entity's top sessions by cost (scope 'model' = 'provider/model'). */
export async function topSessions(
  client: ClickHouseClient,
  db: string,
  o: { scope: SpendScope | 'model'; entity: string; limit: number } & ReportWindow,
): Promise<TopSessionRow[]> {
  const rows = await select<Record<string, string | number>>(
    client,
    db,
    'alerts_top_sessions.sql',
    { scope: o.scope, entity: o.entity, limit: o.limit, since: t(o.since), until: t(o.until) },
  );
  return rows.map((r) => ({
    session_id: String(r.session_id),
    developer: String(r.last_developer),
    cost_nanos: BigInt(r.cost ?? 0).toString(),
    cost_usd: nanosToUsdNumber(BigInt(r.cost ?? 0)),
    llm_calls: Number(r.calls_llm),
    tool_calls: Number(r.calls_tool),
    tokens: Number(r.tokens),
  }));
}

export interface TopToolRow {
  tool_name: string;
  calls: number;
  errors: number;
  result_tokens: number;
}

/** The tools behind an alert: one entity's tool calls in the window, most calls first. */
export async function topTools(
  client: ClickHouseClient,
  db: string,
  o: { scope: SpendScope; entity: string; limit: number } & ReportWindow,
): Promise<TopToolRow[]> {
  const rows = await select<Record<string, string | number>>(client, db, 'alerts_top_tools.sql', {
    scope: o.scope,
    entity: o.entity,
    limit: o.limit,
    since: t(o.since),
    until: t(o.until),
  });
  return rows.map((r) => ({
    tool_name: String(r.tool_name),
    calls: Number(r.calls),
    errors: Number(r.errors),
    result_tokens: Number(r.tokens),
  }));
}

export type AlertState = 'warn' | 'firing' | 'resolved';

/** The latest state of an alert of one rule and entity. */
export interface AlertStateRow {
  rule_id: string;
  entity: string;
  alert_id: string;
  state: AlertState;
  window_start: string;
  /** evaluation time of the latest transition, 'YYYY-MM-DD hh:mm:ss.sss' UTC */
  at: string;
  entity_kind: string;
}

export async function alertStates(client: ClickHouseClient, db: string): Promise<AlertStateRow[]> {
  return select<AlertStateRow>(client, db, 'alerts_state.sql', {});
}

/** A row of the alerts table: one state transition (a notice). */
export interface AlertTransitionRow {
  notice_id: string;
  alert_id: string;
  rule_id: string;
  rule_type: string;
  entity_kind: string;
  entity: string;
  /** 'YYYY-MM-DD hh:mm:ss' UTC */
  window_start: string;
  state: AlertState;
  /** ms since the epoch */
  at: number;
  recorded_at: number;
  unit: string;
  figure: string;
  threshold: string;
  baseline: string | null;
  message: string;
  payload: string;
}

export interface AlertDeliveryRow {
  notice_id: string;
  alert_id: string;
  state: AlertState;
  channel: string;
  attempt: number;
  status: 'delivered' | 'retrying' | 'failed';
  http_status: number;
  error: string;
  /** ms since the epoch */
  at: number;
}

async function insert(
  client: ClickHouseClient,
  db: string,
  table: string,
  values: readonly object[],
): Promise<void> {
  assertDatabaseName(db);
  if (values.length === 0) return;
  try {
    await client.insert({ table: `${db}.${table}`, values: [...values], format: 'JSONEachRow' });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Storing ${table} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

export const insertAlertTransitions = (
  client: ClickHouseClient,
  db: string,
  rows: readonly AlertTransitionRow[],
): Promise<void> => insert(client, db, 'alerts', rows);

export const insertAlertDeliveries = (
  client: ClickHouseClient,
  db: string,
  rows: readonly AlertDeliveryRow[],
): Promise<void> => insert(client, db, 'alert_deliveries', rows);

export interface PendingNoticeRow {
  notice_id: string;
  alert_id: string;
  state: AlertState;
  payload: string;
}

/** Notices recorded since `since` whose delivery to `channel` never finished (delivered or failed). */
export async function pendingNotices(
  client: ClickHouseClient,
  db: string,
  o: { channel: string; since: Date },
): Promise<PendingNoticeRow[]> {
  return select<PendingNoticeRow>(client, db, 'alerts_pending.sql', {
    channel: o.channel,
    since: t(o.since),
  });
}

/** A row of `report alerts`. */
export interface AlertReportRow {
  at: string;
  state: AlertState;
  rule_id: string;
  rule_type: string;
  entity_kind: string;
  entity: string;
  window_start: string;
  unit: string;
  figure: string;
  threshold: string;
  baseline: string;
  message: string;
  /** last webhook delivery status ('' when no webhook is configured) */
  delivery: string;
  attempts: number;
  alert_id: string;
  /** figure and threshold for people: dollars, percent, or the count and its unit */
  figure_text: string;
  threshold_text: string;
}

/** A figure of the alerts table for people, by its unit. */
export function alertFigureText(unit: string, value: string): string {
  if (unit === '') return '';
  const n = BigInt(value || '0');
  if (unit === 'nano_usd') return `$${formatUsd(n, n < 1_000_000_000n ? 4 : 2)}`;
  if (unit === 'nano_usd_per_minute') return `$${formatUsd(n, 4)}/min`;
  if (unit === 'share_bp') return `${Number(n) / 100}%`;
  if (unit === 'tokens_per_minute') return `${n.toString()} tokens/min`;
  return `${n.toString()} ${unit}`;
}

/** Alert notices evaluated in the window, newest first, with their delivery outcome. */
export async function alertsReport(
  client: ClickHouseClient,
  options: { db: string } & ReportWindow,
): Promise<AlertReportRow[]> {
  const rows = await select<AlertReportRow>(client, options.db, 'alerts_list.sql', {
    since: t(options.since),
    until: t(options.until),
  });
  return rows.map((r) => ({
    ...r,
    attempts: Number(r.attempts),
    figure_text: alertFigureText(r.unit, r.figure),
    threshold_text: alertFigureText(r.unit, r.threshold),
  }));
}
