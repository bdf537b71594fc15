import {
  costBy,
  costDrift,
  costPerPr,
  wasteBy,
  wasteCalls,
  metricsCheck,
  usageCheck,
  type MetricsCheckRow,
  type UsageCheckRow,
  WASTE_DIMENSIONS,
  unpricedModels,
  type ClickHouseClient,
  type CostByRow,
  type CostDriftRow,
  type CostPerPrRow,
  type WasteDimension,
  type WasteRow,
  type WasteCallRow,
  type UnpricedRow,
  alertsReport,
  type AlertReportRow,
  linkageReport,
  costPerMergedPr,
  spendPerDeveloper,
  timeToMerge,
  reviewVelocity,
  firstPass,
  type LinkageRow,
  type MergedPrCostRow,
  type DeveloperSpendRow,
  type PrOutcomeRow,
  type FirstPassRow,
  codeChurn,
  codeSurvival,
  defectEscape,
  GIT_DIMENSIONS,
  type ChurnRow,
  type SurvivalRow,
  type DefectEscapeRow,
  type GitDimension,
  billingBlocks,
  type BlockRow,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { ApiText } from '../ingest/server.js';
import { flattenBreakdown, reportEnvelope, toCsv } from './machine.js';
import { parseBreakdown, parseDimension, parseTolerance, parseWindow } from './params.js';
import { REPORT_NAMES, type ReportName } from './names.js';

/** Report parameters as text, the same from the CLI's flags and the HTTP API's query string. */
export interface ReportRequest {
  since?: string | null;
  until?: string | null;
  by?: string | null;
  /** cost: a second dimension under each row (`model`). */
  breakdown?: string | null;
  repo?: string | null;
  /** cost-drift: tolerance in percent of the computed cost. */
  tolerance?: string | null;
  /** Linked reports: only spend of this team / developer. */
  team?: string | null;
  developer?: string | null;
}

export {
  GIT_REPORT_NAMES,
  LINK_REPORT_NAMES,
  NEEDS_DETECTION,
  REPORT_NAMES,
  type GitReportName,
  type LinkReportName,
  type ReportName,
} from './names.js';

export type ReportRows =
  | CostPerPrRow[]
  | CostByRow[]
  | WasteRow[]
  | WasteCallRow[]
  | UnpricedRow[]
  | CostDriftRow[]
  | MetricsCheckRow[]
  | UsageCheckRow[]
  | AlertReportRow[]
  | LinkageRow[]
  | MergedPrCostRow[]
  | DeveloperSpendRow[]
  | PrOutcomeRow[]
  | FirstPassRow[]
  | ChurnRow[]
  | SurvivalRow[]
  | DefectEscapeRow[]
  | BlockRow[];

function gitDimension(by: string | null | undefined): GitDimension {
  const v = (by ?? 'repo').trim();
  if ((GIT_DIMENSIONS as readonly string[]).includes(v)) return v as GitDimension;
  throw new PipelineError(
    'BAD_REQUEST',
    `--by ${JSON.stringify(v)} is not a cut of churn, survival or defects: use one of ${GIT_DIMENSIONS.join(', ')}.`,
  );
}

function wasteDimension(by: string | null | undefined): WasteDimension {
  const v = (by ?? 'kind').trim();
  if ((WASTE_DIMENSIONS as readonly string[]).includes(v)) return v as WasteDimension;
  throw new PipelineError(
    'BAD_REQUEST',
    `--by ${JSON.stringify(v)} is not a waste dimension: use one of ${WASTE_DIMENSIONS.join(', ')}, or call (each finding).`,
  );
}

/** Runs one report against a ClickHouse client (chDB or server). */
export async function runReport(
  client: ClickHouseClient,
  db: string,
  name: ReportName,
  req: ReportRequest,
): Promise<ReportRows> {
  const window = parseWindow(req.since, req.until);
  const breakdown = parseBreakdown(req.breakdown);
  if (breakdown !== undefined && name !== 'cost')
    throw new PipelineError(
      'BAD_REQUEST',
      `breakdown applies to the cost report only, not to ${name}: drop it, or ask for report cost.`,
    );
  const linked = {
    db,
    ...window,
    ...(req.repo ? { repo: req.repo } : {}),
    ...(req.team ? { team: req.team } : {}),
    ...(req.developer ? { developer: req.developer } : {}),
  };
  switch (name) {
    case 'cost-per-pr':
      return costPerPr(client, linked);
    case 'linkage':
      return linkageReport(client, linked);
    case 'cost-per-merged-pr':
      return costPerMergedPr(client, linked);
    case 'spend-per-developer':
      return spendPerDeveloper(client, linked);
    case 'time-to-merge':
      return timeToMerge(client, linked);
    case 'review-velocity':
      return reviewVelocity(client, linked);
    case 'first-pass':
      return firstPass(client, linked);
    case 'churn':
      return codeChurn(client, { ...linked, by: gitDimension(req.by) });
    case 'survival':
      return codeSurvival(client, { ...linked, by: gitDimension(req.by) });
    case 'defects':
      return defectEscape(client, { ...linked, by: gitDimension(req.by) });
    case 'cost':
      return costBy(client, {
        db,
        by: parseDimension(req.by),
        ...(breakdown ? { breakdown } : {}),
        ...window,
      });
    case 'waste':
      // --by call: each finding with the span it repeats, instead of totals per dimension
      if (req.by?.trim() === 'call') return wasteCalls(client, { db, ...window });
      return wasteBy(client, { db, by: wasteDimension(req.by), ...window });
    case 'unpriced':
      return unpricedModels(client, { db, ...window });
    case 'metrics-check':
      return metricsCheck(client, { db, ...window });
    case 'usage-check':
      return usageCheck(client, { db, ...window });
    case 'alerts':
      return alertsReport(client, { db, ...window });
    case 'cost-drift':
      return costDrift(client, { db, tolerancePercent: parseTolerance(req.tolerance), ...window });
    case 'blocks':
      return billingBlocks(client, { db, ...window });
  }
}

/**
 * The API handlers (GET /api/v1/reports/<name>) a running server exposes: the same JSON as the
 * CLI's `--json` (report, window, rows), or CSV with `?format=csv`.
 */
export function reportApi(
  client: ClickHouseClient,
  db: string,
  beforeReport: (name: ReportName) => Promise<void> = () => Promise.resolve(),
): Record<string, (p: URLSearchParams) => Promise<unknown>> {
  const api: Record<string, (p: URLSearchParams) => Promise<unknown>> = {};
  for (const name of REPORT_NAMES) {
    api[`reports/${name}`] = async (p) => {
      const format = p.get('format') ?? 'json';
      if (format !== 'json' && format !== 'csv')
        throw new PipelineError('BAD_REQUEST', `format=${format}: use json or csv.`);
      const window = parseWindow(p.get('since'), p.get('until'));
      await beforeReport(name);
      const rows = await runReport(client, db, name, {
        since: window.since.toISOString(),
        until: window.until.toISOString(),
        by: p.get('by'),
        breakdown: p.get('breakdown'),
        repo: p.get('repo'),
        tolerance: p.get('tolerance'),
        team: p.get('team'),
        developer: p.get('developer'),
      });
      const body = reportEnvelope(name, window, rows as unknown as Record<string, unknown>[]);
      return format === 'csv'
        ? new ApiText('text/csv; charset=utf-8', toCsv(flattenBreakdown(body.rows)))
        : body;
    };
  }
  return api;
}
