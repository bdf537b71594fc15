/**
 * The parts of this package that need no store client: report dimensions, windows and money
 * formatting. The CLI loads these at start-up and for a report read from a running server, where
 * loading chDB and the ClickHouse client (hundreds of ms) would be wasted. Import as
 * `@harness-meter/queries/pure`.
 */
export {
  COST_BREAKDOWNS,
  COST_DIMENSIONS,
  DEFAULT_DRIFT_TOLERANCE_PERCENT,
  GIT_DIMENSIONS,
  WASTE_DIMENSIONS,
} from './dimensions.js';
export { defaultWindow } from './report-window.js';
export type { CostBreakdown, CostDimension } from './dimensions.js';
export type { ReportWindow } from './report-window.js';
export { formatUsd } from './money.js';
