import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError } from './errors.js';
import { repoKey, SPAN_LOOKBACK_DAYS } from './linkage.js';
import {
  filterParams,
  num,
  runReport,
  windowParams,
  type LinkFilters,
  type ReportWindow,
} from './reports.js';
import { toClickHouseTime } from './sql.js';
import { GIT_DIMENSIONS, type GitDimension } from './dimensions.js';

export { GIT_DIMENSIONS };
export type { GitDimension };

type Options = { db: string; by?: GitDimension } & LinkFilters & ReportWindow;

/** Percent with 2 decimals, or null without a denominator. */
const pct = (a: number, b: number): number | null =>
  b <= 0 ? null : Math.round((a * 10_000) / b) / 100;

function params(o: Options, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const by = o.by ?? 'repo';
  if (!(GIT_DIMENSIONS as readonly string[]).includes(by))
    throw new StoreError(
      'INVALID_ARGUMENT',
      `--by ${JSON.stringify(by)} is not a cut of the git reports: use one of ${GIT_DIMENSIONS.join(', ')}.`,
    );
  return {
    ...windowParams(o.db, o),
    span_since: toClickHouseTime(new Date(o.since.getTime() - SPAN_LOOKBACK_DAYS * 86_400_000)),
    // Linkage reads all spend (team and developer are cuts of the line groups here, applied after).
    ...filterParams({}),
    cut_team: o.team ?? '',
    cut_developer: o.developer ?? '',
    repo_key: o.repo === undefined ? '' : repoKey(o.repo),
    by,
    ...extra,
  };
}

/** Whether every window of a row is closed ('final') or some is still open ('provisional'). */
export type WindowStatus = 'final' | 'provisional';

/** Code churn: lines rewritten or removed within 14 days of the merge ÷ lines added. */
export interface ChurnRow {
  by: GitDimension;
  key: string;
  cohort: 'agent' | 'human';
  status: WindowStatus;
  prs: number;
  lines_added: number;
  rewritten_14d: number;
  removed_14d: number;
  churned_14d: number;
  /** churned ÷ lines_added, percent (2 decimals); so far, for provisional rows. */
  churn_pct: number | null;
}

/** Survival: lines still there 30 days after the merge ÷ lines added at the merge. */
export interface SurvivalRow {
  by: GitDimension;
  key: string;
  cohort: 'agent' | 'human';
  status: WindowStatus;
  prs: number;
  lines_added: number;
  rewritten_30d: number;
  removed_30d: number;
  alive_30d: number;
  survival_pct: number | null;
}

/** Defect escape: PRs a later defect traces back to ÷ PRs. */
export interface DefectEscapeRow {
  by: GitDimension;
  key: string;
  cohort: 'agent' | 'human';
  status: WindowStatus;
  prs: number;
  defect_prs: number;
  defect_escape_pct: number | null;
  defects: number;
  reverts: number;
  fixes: number;
  incidents: number;
  /** Why each PR counts: `owner/repo#N: <kind> <reference>` (the first 20). */
  evidence: string[];
}

const cohort = (v: unknown): 'agent' | 'human' => (v === 'agent' ? 'agent' : 'human');
const status = (v: unknown): WindowStatus => (v === 'provisional' ? 'provisional' : 'final');

/** Code churn of agent-touched lines against human ones, over PRs merged in the window. */
export async function codeChurn(client: ClickHouseClient, options: Options): Promise<ChurnRow[]> {
  const p = params(options, { days: 14 });
  const rows = await runReport(client, 'churn', 'line_fates.sql', p);
  return rows.map((r) => {
    const added = num(r.lines_added);
    const churned = num(r.rewritten) + num(r.removed);
    return {
      by: p.by as GitDimension,
      key: String(r.key ?? ''),
      cohort: cohort(r.cohort),
      status: status(r.status),
      prs: num(r.prs),
      lines_added: added,
      rewritten_14d: num(r.rewritten),
      removed_14d: num(r.removed),
      churned_14d: churned,
      churn_pct: pct(churned, added),
    };
  });
}

/** Survival of agent-written lines against human ones, 30 days after the merge. */
export async function codeSurvival(
  client: ClickHouseClient,
  options: Options,
): Promise<SurvivalRow[]> {
  const p = params(options, { days: 30 });
  const rows = await runReport(client, 'survival', 'line_fates.sql', p);
  return rows.map((r) => {
    const added = num(r.lines_added);
    const alive = added - num(r.rewritten) - num(r.removed);
    return {
      by: p.by as GitDimension,
      key: String(r.key ?? ''),
      cohort: cohort(r.cohort),
      status: status(r.status),
      prs: num(r.prs),
      lines_added: added,
      rewritten_30d: num(r.rewritten),
      removed_30d: num(r.removed),
      alive_30d: alive,
      survival_pct: pct(alive, added),
    };
  });
}

/** Defect escape of agent PRs against human PRs merged in the window, with the evidence. */
export async function defectEscape(
  client: ClickHouseClient,
  options: Options,
): Promise<DefectEscapeRow[]> {
  const p = params(options);
  const rows = await runReport(client, 'defects', 'defects.sql', p);
  return rows.map((r) => {
    const raw = r as Record<string, unknown>;
    return {
      by: p.by as GitDimension,
      key: String(r.key ?? ''),
      cohort: cohort(r.cohort),
      status: status(r.status),
      prs: num(r.prs),
      defect_prs: num(r.defect_prs),
      defect_escape_pct: pct(num(r.defect_prs), num(r.prs)),
      defects: num(r.defects),
      reverts: num(r.reverts),
      fixes: num(r.fixes),
      incidents: num(r.incidents),
      evidence: Array.isArray(raw.evidence) ? raw.evidence.map(String) : [],
    };
  });
}
