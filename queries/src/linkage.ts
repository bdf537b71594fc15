import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { nanosToUsdNumber } from './money.js';
import { withPrelinked } from './prelink.js';
import {
  linkedParams,
  num,
  runReport,
  PRELINKED_FRAGMENTS,
  type LinkFilters,
  type LinkReadOptions,
  type ReportWindow,
} from './reports.js';
import { assertDatabaseName } from './sql.js';

/** One fact about a pull request (table pr_events). Times are ClickHouse DateTime64(3) UTC literals. */
export interface PrEventRow {
  /** owner/name, lower case */
  repo: string;
  pr: number;
  /** Natural key of the fact, so redeliveries and re-imports are one row. */
  event_key: string;
  kind: PrEventKind;
  at: string;
  author: string;
  actor: string;
  head_branch: string;
  base_branch: string;
  head_sha: string;
  created_at: string | null;
  review_state: string;
  check_name: string;
  check_conclusion: string;
  additions: number | null;
  deletions: number | null;
  changed_files: number | null;
  source: 'webhook' | 'import-prs';
  delivery_id: string;
}

export const PR_EVENT_KINDS = [
  'opened',
  'reopened',
  'pushed',
  'updated',
  'review',
  'check',
  'merged',
  'closed',
] as const;
export type PrEventKind = (typeof PR_EVENT_KINDS)[number];

/** A commit known to exist (table pr_commits); session_id from an `Agent-Session:` trailer. */
export interface PrCommitRow {
  repo: string;
  sha: string;
  source: 'webhook-push' | 'import-prs' | 'import-git';
  /** 0 = this source does not know the PR. */
  pr: number;
  branch: string;
  session_id: string;
  author: string;
  committed_at: string;
  delivery_id: string;
}

async function insert(
  client: ClickHouseClient,
  table: string,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  try {
    await client.insert({ table, values: [...rows], format: 'JSONEachRow' });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Storing ${table} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

/**
 * Stores PR facts. Idempotent: rows with the same natural key collapse (ReplacingMergeTree), and
 * readers use FINAL.
 * @example await insertPrFacts(client, 'harness_meter', { events, commits });
 */
export async function insertPrFacts(
  client: ClickHouseClient,
  db: string,
  facts: { events: readonly PrEventRow[]; commits: readonly PrCommitRow[] },
): Promise<void> {
  assertDatabaseName(db);
  await insert(client, `${db}.pr_events`, facts.events);
  await insert(client, `${db}.pr_commits`, facts.commits);
}

/** Whether a webhook delivery (X-GitHub-Delivery) already stored something. */
export async function deliveryStored(
  client: ClickHouseClient,
  db: string,
  deliveryId: string,
): Promise<boolean> {
  assertDatabaseName(db);
  try {
    const rs = await client.query({
      query: `SELECT (SELECT count() FROM {db:Identifier}.pr_events WHERE delivery_id = {d:String})
                   + (SELECT count() FROM {db:Identifier}.pr_commits WHERE delivery_id = {d:String}) AS n`,
      query_params: { db, d: deliveryId },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ n: string | number }>();
    return Number(rows[0]?.n ?? 0) > 0;
  } catch (err) {
    throw new StoreError(
      'QUERY_FAILED',
      `Checking delivery ${deliveryId} failed: ${messageOf(err)}`,
      {
        cause: err,
        retriable: true,
      },
    );
  }
}

/**
 * `owner/name` in lower case from a repository URL or name, the rule the link rollup applies to
 * spans (`https://github.com/Acme/API.git`, `git@github.com:acme/api.git` → `acme/api`).
 */
export function repoKey(repo: string): string {
  return repo
    .trim()
    .replace(/(\.git)?\/*$/, '')
    .replace(/^(?:[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/]*@)?[^/]+\/|[^@/:]+@[^:/]+:)/, '')
    .toLowerCase();
}

/** How far before `since` the PR metrics look for spend on PRs of the window (their life). */
export const SPAN_LOOKBACK_DAYS = 90;

export const LINK_RULES = ['explicit', 'commit', 'branch', 'trailer', 'unattributed'] as const;
export type LinkRule = (typeof LINK_RULES)[number];

type Options = { db: string } & LinkFilters & ReportWindow & LinkReadOptions;

/** A linked report, prelinked when the stored links hold for its window (see prelink.ts). */
function runLinked(
  client: ClickHouseClient,
  options: Options,
  report: string,
  file: string,
  p: Record<string, unknown>,
) {
  return withPrelinked(
    client,
    options.db,
    String(p.until),
    (pre) => runReport(client, report, file, p, pre ? PRELINKED_FRAGMENTS : undefined),
    options.prelinked,
  );
}

function params(options: Options, spanSince?: Date): Record<string, unknown> {
  return {
    ...linkedParams(options.db, options, options, spanSince),
    repo_key: options.repo === undefined ? '' : repoKey(options.repo),
  };
}

const lookback = (o: Options): Date =>
  new Date(o.since.getTime() - SPAN_LOOKBACK_DAYS * 86_400_000);

/** a / b in integer nano-USD, rounded half up; null when b is 0. */
function perUnit(a: bigint, b: number): string | null {
  if (b <= 0) return null;
  const d = BigInt(b);
  return ((a * 2n + d) / (2n * d)).toString();
}

const pct = (a: number, b: number): number | null =>
  b <= 0 ? null : Math.round((a * 10_000) / b) / 100;

/** Spend attributed by one linkage rule. */
export interface LinkageRow {
  rule: LinkRule;
  sessions: number;
  prs: number;
  llm_calls: number;
  tool_calls: number;
  cost_nanos: string;
  cost_usd: number;
  /** Share of the window's priced spend, percent with 2 decimals (null when there is none). */
  share_pct: number | null;
  unpriced_calls: number;
}

/**
 * How much spend is attributed to PRs and by which rule; every rule is listed, unattributed too.
 * @example await linkageReport(client, { db: 'harness_meter', ...defaultWindow() });
 */
export async function linkageReport(
  client: ClickHouseClient,
  options: Options,
): Promise<LinkageRow[]> {
  const rows = await runLinked(client, options, 'linkage', 'linkage.sql', params(options));
  const total = rows.reduce((n, r) => n + BigInt(r.cost_nanos ?? 0), 0n);
  return LINK_RULES.map((rule) => {
    const r = rows.find((x) => x.rule === rule) ?? {};
    const cost = BigInt(r.cost_nanos ?? 0);
    return {
      rule,
      sessions: num(r.sessions),
      prs: num(r.prs),
      llm_calls: num(r.llm_calls),
      tool_calls: num(r.tool_calls),
      cost_nanos: cost.toString(),
      cost_usd: nanosToUsdNumber(cost),
      share_pct: pct(Number(cost), Number(total)),
      unpriced_calls: num(r.unpriced_calls),
    };
  });
}

/** Dollars per merged PR of one repository (or '(all)'). */
export interface MergedPrCostRow {
  repo: string;
  /** PRs merged in the window. */
  merged_prs: number;
  /** Of them, those with agent spend linked. */
  agent_merged_prs: number;
  sessions: number;
  llm_calls: number;
  /** Spend linked to the PRs merged in the window, over their life (up to SPAN_LOOKBACK_DAYS before since). */
  cost_nanos: string;
  cost_usd: number;
  /** cost / merged_prs, nano-USD rounded half up; null without merged PRs. */
  cost_per_merged_pr_nanos: string | null;
  cost_per_merged_pr_usd: number | null;
  /** cost / agent_merged_prs. */
  cost_per_agent_pr_nanos: string | null;
  unpriced_calls: number;
  /** Spend of the window no rule links to a PR. */
  unattributed_cost_nanos: string;
  unattributed_cost_usd: number;
}

/** Dollars per merged PR over a window, per repository, with a total row when there are several. */
export async function costPerMergedPr(
  client: ClickHouseClient,
  options: Options,
): Promise<MergedPrCostRow[]> {
  const raw = await runLinked(
    client,
    options,
    'cost-per-merged-pr',
    'merged_pr_cost.sql',
    params(options, lookback(options)),
  );
  const make = (r: {
    repo: string;
    merged: number;
    agent: number;
    sessions: number;
    llm: number;
    cost: bigint;
    unpriced: number;
    unattributed: bigint;
  }): MergedPrCostRow => {
    const per = perUnit(r.cost, r.merged);
    return {
      repo: r.repo,
      merged_prs: r.merged,
      agent_merged_prs: r.agent,
      sessions: r.sessions,
      llm_calls: r.llm,
      cost_nanos: r.cost.toString(),
      cost_usd: nanosToUsdNumber(r.cost),
      cost_per_merged_pr_nanos: per,
      cost_per_merged_pr_usd: per === null ? null : nanosToUsdNumber(BigInt(per)),
      cost_per_agent_pr_nanos: perUnit(r.cost, r.agent),
      unpriced_calls: r.unpriced,
      unattributed_cost_nanos: r.unattributed.toString(),
      unattributed_cost_usd: nanosToUsdNumber(r.unattributed),
    };
  };
  const parts = raw.map((r) => ({
    repo: String(r.repo ?? ''),
    merged: num(r.merged_prs),
    agent: num(r.agent_merged_prs),
    sessions: num(r.sessions),
    llm: num(r.llm_calls),
    cost: BigInt(r.cost_nanos ?? 0),
    unpriced: num(r.unpriced_calls),
    unattributed: BigInt(r.unattributed_cost_nanos ?? 0),
  }));
  const rows = parts.map(make);
  if (parts.length > 1)
    rows.push(
      make(
        parts.reduce(
          (a, p) => ({
            repo: '(all)',
            merged: a.merged + p.merged,
            agent: a.agent + p.agent,
            sessions: a.sessions + p.sessions,
            llm: a.llm + p.llm,
            cost: a.cost + p.cost,
            unpriced: a.unpriced + p.unpriced,
            unattributed: a.unattributed + p.unattributed,
          }),
          {
            repo: '(all)',
            merged: 0,
            agent: 0,
            sessions: 0,
            llm: 0,
            cost: 0n,
            unpriced: 0,
            unattributed: 0n,
          },
        ),
      ),
    );
  return rows;
}

/** Spend per active developer over one UTC day, or the whole window (period 'window'). */
export interface DeveloperSpendRow {
  period: string;
  active_developers: number;
  cost_nanos: string;
  cost_usd: number;
  /** Spend of spans that name a developer. */
  developer_cost_nanos: string;
  /** developer_cost / active_developers, nano-USD rounded half up; null with none active. */
  cost_per_active_developer_nanos: string | null;
  cost_per_active_developer_usd: number | null;
  /** Spend with no developer known: shown, never shared out. */
  unknown_developer_cost_nanos: string;
  llm_calls: number;
  unpriced_calls: number;
}

export async function spendPerDeveloper(
  client: ClickHouseClient,
  options: Options,
): Promise<DeveloperSpendRow[]> {
  const raw = await runReport(
    client,
    'spend-per-developer',
    'spend_per_developer.sql',
    params(options),
  );
  return raw.map((r) => {
    const cost = BigInt(r.cost_nanos ?? 0);
    const known = BigInt(r.developer_cost_nanos ?? 0);
    const per = perUnit(known, num(r.active_developers));
    return {
      period: String(r.period ?? ''),
      active_developers: num(r.active_developers),
      cost_nanos: cost.toString(),
      cost_usd: nanosToUsdNumber(cost),
      developer_cost_nanos: known.toString(),
      cost_per_active_developer_nanos: per,
      cost_per_active_developer_usd: per === null ? null : nanosToUsdNumber(BigInt(per)),
      unknown_developer_cost_nanos: BigInt(r.unknown_developer_cost_nanos ?? 0).toString(),
      llm_calls: num(r.llm_calls),
      unpriced_calls: num(r.unpriced_calls),
    };
  });
}

/** Agent-assisted PRs against the others (time-to-merge; review-velocity adds the size bucket). */
export interface PrOutcomeRow {
  cohort: 'agent-assisted' | 'other';
  /** review-velocity: XS (≤10 lines), S (≤100), M (≤500), L (≤1000), XL, unknown; '' in time-to-merge. */
  size: string;
  prs: number;
  median_hours_to_merge: number | null;
  p90_hours_to_merge: number | null;
  median_hours_to_first_review: number | null;
  prs_with_size: number;
  median_lines_changed: number | null;
  avg_lines_changed: number | null;
  /** Hours from opening to the first review per 100 lines changed (median over PRs). */
  median_review_hours_per_100_lines: number | null;
}

const fnum = (v: string | number | null | undefined): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

async function prOutcomes(
  client: ClickHouseClient,
  options: Options,
  bySize: boolean,
): Promise<PrOutcomeRow[]> {
  const name = bySize ? 'review-velocity' : 'time-to-merge';
  const raw = await runReport(client, name, 'pr_outcomes.sql', {
    ...params(options, lookback(options)),
    by_size: bySize ? 1 : 0,
  });
  return raw.map((r) => ({
    cohort: r.cohort === 'agent-assisted' ? 'agent-assisted' : 'other',
    size: String(r.size ?? ''),
    prs: num(r.prs),
    median_hours_to_merge: fnum(r.median_hours_to_merge),
    p90_hours_to_merge: fnum(r.p90_hours_to_merge),
    median_hours_to_first_review: fnum(r.median_hours_to_first_review),
    prs_with_size: num(r.prs_with_size),
    median_lines_changed: fnum(r.median_lines_changed),
    avg_lines_changed: fnum(r.avg_lines_changed),
    median_review_hours_per_100_lines: fnum(r.median_review_hours_per_100_lines),
  }));
}

/** Time to merge and size of PRs merged in the window, agent-assisted against the others. */
export function timeToMerge(client: ClickHouseClient, options: Options): Promise<PrOutcomeRow[]> {
  return prOutcomes(client, options, false);
}

/** Review velocity of PRs first reviewed in the window, by size bucket, agent-assisted against the others. */
export function reviewVelocity(
  client: ClickHouseClient,
  options: Options,
): Promise<PrOutcomeRow[]> {
  return prOutcomes(client, options, true);
}

/** First-pass success of implementation sessions, per repository. */
export interface FirstPassRow {
  repo: string;
  sessions: number;
  /** No rule links the session to a PR. */
  unlinked_sessions: number;
  /** Its PR is still open (or has no GitHub facts) at `until`. */
  pending_sessions: number;
  /** Its PR is merged or closed at `until`: the denominator. */
  resolved_sessions: number;
  first_pass_sessions: number;
  changes_requested_sessions: number;
  failing_check_sessions: number;
  closed_unmerged_sessions: number;
  /** first_pass / resolved, percent with 2 decimals; null when none resolved. */
  first_pass_pct: number | null;
}

export async function firstPass(
  client: ClickHouseClient,
  options: Options,
): Promise<FirstPassRow[]> {
  const raw = await runReport(client, 'first-pass', 'first_pass.sql', params(options));
  return raw.map((r) => ({
    repo: String(r.repo ?? ''),
    sessions: num(r.sessions),
    unlinked_sessions: num(r.unlinked_sessions),
    pending_sessions: num(r.pending_sessions),
    resolved_sessions: num(r.resolved_sessions),
    first_pass_sessions: num(r.first_pass_sessions),
    changes_requested_sessions: num(r.changes_requested_sessions),
    failing_check_sessions: num(r.failing_check_sessions),
    closed_unmerged_sessions: num(r.closed_unmerged_sessions),
    first_pass_pct: pct(num(r.first_pass_sessions), num(r.resolved_sessions)),
  }));
}
