/**
 * The report names, apart from the report service so the CLI can list them without loading the
 * store client and the HTTP server (`harness-meter --help` stays fast). report/service.ts re-exports them.
 */
export type ReportName =
  | 'cost-per-pr'
  | 'cost'
  | 'waste'
  | 'unpriced'
  | 'cost-drift'
  | 'metrics-check'
  | 'usage-check'
  | 'alerts'
  | 'blocks'
  | LinkReportName
  | GitReportName;
/** Reports from git history (issue 18): code churn, survival of agent code, defect escape. */
export type GitReportName = 'churn' | 'survival' | 'defects';
export const GIT_REPORT_NAMES: readonly GitReportName[] = ['churn', 'survival', 'defects'];
/** Reports on PR linkage and the harness metrics (issue 7). */
export type LinkReportName =
  | 'linkage'
  | 'cost-per-merged-pr'
  | 'spend-per-developer'
  | 'time-to-merge'
  | 'first-pass'
  | 'review-velocity';
export const LINK_REPORT_NAMES: readonly LinkReportName[] = [
  'linkage',
  'cost-per-merged-pr',
  'spend-per-developer',
  'time-to-merge',
  'first-pass',
  'review-velocity',
];
export const REPORT_NAMES: readonly ReportName[] = [
  'cost-per-pr',
  'cost',
  'waste',
  'unpriced',
  'cost-drift',
  'metrics-check',
  'usage-check',
  'alerts',
  'blocks',
  ...LINK_REPORT_NAMES,
  ...GIT_REPORT_NAMES,
];

/** Reports that read redundancy findings: stale sessions are scanned first. */
export const NEEDS_DETECTION: readonly ReportName[] = ['cost-per-pr', 'waste'];
