/**
 * The report cuts and defaults as plain constants, with no SQL and no store client behind them:
 * `@harness-meter/queries/pure` exports them from here, so the CLI's start-up and a report read from
 * a running server load this file instead of the report builders (issue 17: the CLI within 2x of
 * curl). The report modules re-export them.
 */

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

/** Cuts of the git reports. */
export const GIT_DIMENSIONS = ['repo', 'team', 'developer', 'model', 'intent', 'pr'] as const;
export type GitDimension = (typeof GIT_DIMENSIONS)[number];

/** Default tolerance of cost-drift, in percent of the computed cost. */
export const DEFAULT_DRIFT_TOLERANCE_PERCENT = 1;
