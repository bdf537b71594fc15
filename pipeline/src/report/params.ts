import {
  COST_BREAKDOWNS,
  COST_DIMENSIONS,
  DEFAULT_DRIFT_TOLERANCE_PERCENT,
  defaultWindow,
  type CostBreakdown,
  type CostDimension,
  type ReportWindow,
} from '@harness-meter/queries/pure';
import { PipelineError } from '../errors.js';

const RELATIVE_RE = /^(\d{1,12})\s*(m|h|d|w)$/i;
/** Report and alert times: [1970-01-01, 2100-01-01) UTC, what the store can hold. */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = 4_102_444_800_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses a report time bound: an ISO date or date-time (UTC unless it says otherwise), `now`,
 * a compact date `YYYYMMDD` (ccusage's form), or a duration back from now: `30m`, `24h`, `7d`, `2w`.
 */
export function parseTime(text: string, name: string, now: Date = new Date()): Date {
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(text.trim());
  const t = compact ? `${compact[1] ?? ''}-${compact[2] ?? ''}-${compact[3] ?? ''}` : text.trim();
  if (t === 'now') return now;
  const inWindow = (d: Date): boolean =>
    !Number.isNaN(d.getTime()) && d.getTime() >= MIN_TIME_MS && d.getTime() < MAX_TIME_MS;
  const rel = RELATIVE_RE.exec(t);
  if (rel) {
    const d = new Date(
      now.getTime() - Number(rel[1]) * (UNIT_MS[(rel[2] ?? 'd').toLowerCase()] ?? 0),
    );
    if (inWindow(d)) return d;
    throw new PipelineError(
      'BAD_REQUEST',
      `${name}=${JSON.stringify(text)} reaches before 1970: use a shorter duration (e.g. 90d) or a date.`,
    );
  }
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t)
    ? `${t}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(t)
      ? t
      : `${t}Z`;
  const d = new Date(iso);
  if (/^\d{4}-\d{2}-\d{2}/.test(t) && !Number.isNaN(d.getTime())) {
    if (inWindow(d)) return d;
    throw new PipelineError(
      'BAD_REQUEST',
      `${name}=${JSON.stringify(text)} is outside 1970-01-01..2100-01-01 UTC.`,
    );
  }
  throw new PipelineError(
    'BAD_REQUEST',
    `${name}=${JSON.stringify(text)} is not a time: use an ISO date (2026-11-01 or 20261101), a date-time (2026-11-01T09:30:00Z), now, or a duration back from now (30m, 24h, 7d, 2w).`,
  );
}

/** The window from optional since/until texts; defaults to the last 30 days. */
export function parseWindow(
  since: string | null | undefined,
  until: string | null | undefined,
  now: Date = new Date(),
): ReportWindow {
  const d = defaultWindow(now);
  const window = {
    since: since ? parseTime(since, 'since', now) : d.since,
    until: until ? parseTime(until, 'until', now) : d.until,
  };
  if (!(window.since < window.until)) {
    throw new PipelineError(
      'BAD_REQUEST',
      `since (${window.since.toISOString()}) must be before until (${window.until.toISOString()}).`,
    );
  }
  return window;
}

export function parseDimension(by: string | null | undefined): CostDimension {
  const value = (by ?? 'developer').trim();
  if ((COST_DIMENSIONS as readonly string[]).includes(value)) return value as CostDimension;
  throw new PipelineError(
    'BAD_REQUEST',
    `--by ${JSON.stringify(value)} is not a dimension: use one of ${COST_DIMENSIONS.join(', ')}.`,
  );
}

/** `breakdown=model` of the cost report (the CLI's `--breakdown`); absent or empty: none. */
export function parseBreakdown(text: string | null | undefined): CostBreakdown | undefined {
  const value = (text ?? '').trim();
  if (value === '') return undefined;
  if ((COST_BREAKDOWNS as readonly string[]).includes(value)) return value as CostBreakdown;
  throw new PipelineError(
    'BAD_REQUEST',
    `breakdown=${JSON.stringify(value)} is not a breakdown: use one of ${COST_BREAKDOWNS.join(', ')}.`,
  );
}

/** `--tolerance PCT` of cost-drift: a percentage from 0 to 1000, at most 2 decimals (default 1). */
export function parseTolerance(text: string | null | undefined): number {
  if (text === null || text === undefined || text.trim() === '')
    return DEFAULT_DRIFT_TOLERANCE_PERCENT;
  const t = text.trim().replace(/%$/, '');
  if (/^\d{1,4}(\.\d{1,2})?$/.test(t) && Number(t) <= 1000) return Number(t);
  throw new PipelineError(
    'BAD_REQUEST',
    `--tolerance ${JSON.stringify(text)} is not valid: a percentage from 0 to 1000 with at most 2 decimals, e.g. --tolerance 2.5.`,
  );
}
