/**
 * The window and filter parameters every report binds ({db}, {since}, {until}, and for the linked
 * reports {span_since}, {repo}, {team}, {developer}): one builder shared by reports.ts, linkage.ts and
 * dashboard.ts. No store client here (pure.ts re-exports the window for the CLI's start-up).
 */
import { StoreError } from './errors.js';
import { assertDatabaseName, toClickHouseTime } from './sql.js';

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
 * The parameters of a linked report (cost-per-pr, linkage, the dashboard's PR sessions): the window,
 * {span_since} (where spend is read from; `since` unless the report looks back further) and the filters.
 */
export function linkedParams(
  db: string,
  window: ReportWindow,
  filters: LinkFilters,
  spanSince?: Date,
): Record<string, unknown> {
  const w = windowParams(db, window);
  return {
    ...w,
    span_since: spanSince === undefined ? w.since : toClickHouseTime(spanSince),
    ...filterParams(filters),
  };
}
