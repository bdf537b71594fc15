export { compactRowsBytes, insertCompactRows, insertCompactText, openStore } from './client.js';
export { isChdbStore } from './client.js';
export { insertFileRows, chdbInsertTempDir, removeStaleInsertFiles } from './file-insert.js';
export type { FileRowsInsert } from './file-insert.js';
export { markRollupsClean, repairRollups } from './repair.js';
export { prelinkBusy, prelinkNow, rebuildPrTotals } from './prelink.js';
export type { PrelinkPass, PrelinkLimit } from './prelink.js';
export type { RollupRepair } from './repair.js';
export { folderLock } from './lock.js';
export type { FolderLock } from './lock.js';
export type { CompactInsert, CompactTextInsert, StoreOptions, ClickHouseClient } from './client.js';
export { StoreError, DataFolderLockedError, messageOf, isClickHouseDataError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export {
  loadMigrations,
  migrateUp,
  migrateDown,
  currentVersion,
  splitStatements,
} from './migrate.js';
export type { Migration, MigrationResult } from './migrate.js';
export { formatUsd, nanosToUsdNumber, NANOS_PER_USD } from './money.js';
export { unescapeTsvField } from './tsv.js';
export {
  assertDatabaseName,
  toClickHouseTime,
  MIN_STORED_TIME_MS,
  MAX_STORED_TIME_MS,
} from './sql.js';
export {
  reportSql,
  costPerPr,
  costBy,
  costDrift,
  unpricedModels,
  COST_DRIFT_REASONS,
  DEFAULT_DRIFT_TOLERANCE_PERCENT,
  defaultWindow,
  DEFAULT_WINDOW_DAYS,
  COST_DIMENSIONS,
  COST_BREAKDOWNS,
} from './reports.js';
export type {
  ReportWindow,
  UsageTotals,
  CostPerPrRow,
  CostByRow,
  CostBreakdown,
  CostModelRow,
  CostDimension,
  CostDriftReason,
  CostDriftRow,
  UnpricedRow,
} from './reports.js';
export { wasteBy, WASTE_DIMENSIONS } from './reports.js';
export type { WasteRow, WasteDimension } from './reports.js';
export { wasteCalls, wasteReason, WASTE_CALLS_LIMIT } from './waste-calls.js';
export type { WasteCallRow } from './waste-calls.js';
export { staleSessions, sessionCalls, writeScan } from './detect.js';
export type { SessionCallRow, WasteFindingRow } from './detect.js';
export { metricsCheck, insertMetricPoints, usageCheck } from './reports.js';
export type { UsageCheckRow } from './reports.js';
export type { MetricsCheckRow } from './reports.js';
export * from './alerts.js';
export {
  insertPrFacts,
  deliveryStored,
  PR_EVENT_KINDS,
  repoKey,
  linkageReport,
  costPerMergedPr,
  spendPerDeveloper,
  timeToMerge,
  reviewVelocity,
  firstPass,
  LINK_RULES,
  SPAN_LOOKBACK_DAYS,
} from './linkage.js';
export type {
  PrEventRow,
  PrCommitRow,
  PrEventKind,
  LinkageRow,
  LinkRule,
  MergedPrCostRow,
  DeveloperSpendRow,
  PrOutcomeRow,
  FirstPassRow,
} from './linkage.js';
export type { LinkFilters, LinkReadOptions } from './reports.js';
export { API_KEY_ROLES, insertApiKey, listApiKeys, loadApiKeys, revokeApiKey } from './keys.js';
export type { ApiKeyRole, ApiKeyRow, ApiKeyListRow } from './keys.js';
export {
  insertLineFates,
  insertDefects,
  insertGitWalk,
  lastGitWalk,
  prsOfCommits,
  GIT_INSERT_BATCH_ROWS,
} from './git-lines.js';
export type { LineFateRow, DefectRow, GitWalkRow } from './git-lines.js';
export { codeChurn, codeSurvival, defectEscape, GIT_DIMENSIONS } from './git-reports.js';
export type {
  ChurnRow,
  SurvivalRow,
  DefectEscapeRow,
  GitDimension,
  WindowStatus,
} from './git-reports.js';
export { billingBlocks, groupBlocks, BLOCK_HOURS } from './blocks.js';
export { otlpSessions } from './transcripts.js';
export type { BlockRow, BlockCall } from './blocks.js';
export {
  dashboardSummary,
  dashboardFilters,
  costSeries,
  wasteSeries,
  prSessions,
  sessionTimeline,
  autoStep,
  SERIES_DIMENSIONS,
  MIN_STEP_SECONDS,
  MAX_STEP_SECONDS,
} from './dashboard.js';
export type {
  DashboardFilters,
  DashboardFilterValues,
  DashboardSummary,
  SeriesDimension,
  SeriesPoint,
  WasteSeriesPoint,
  PrSessionRow,
  SessionSpanRow,
} from './dashboard.js';
