/**
 * The dimension lists of the reports, without the store client: the CLI builds its `--by` choices
 * from these at start-up (`harness-meter --help` must not load chDB or the ClickHouse client).
 * Import as `@harness-meter/queries/dimensions`.
 */
export { COST_BREAKDOWNS, COST_DIMENSIONS, WASTE_DIMENSIONS } from './reports.js';
export { GIT_DIMENSIONS } from './git-reports.js';
