/**
 * The data-quality reports: models without a price, usage that does not add up, reported costs that
 * differ from the computed ones, and agents' own usage counters against their events.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { num, runReport } from './report-sql.js';
import { windowParams, type ReportWindow } from './report-window.js';
import { assertDatabaseName } from './sql.js';
import { DEFAULT_DRIFT_TOLERANCE_PERCENT } from './dimensions.js';

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

export { DEFAULT_DRIFT_TOLERANCE_PERCENT };

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
