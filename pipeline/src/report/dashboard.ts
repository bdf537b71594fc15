import {
  autoStep,
  costSeries,
  dashboardSummary,
  dashboardFilters,
  prSessions,
  sessionTimeline,
  wasteSeries,
  SERIES_DIMENSIONS,
  type ClickHouseClient,
  type DashboardFilters,
  type ReportWindow,
  type SeriesDimension,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { parseWindow } from './params.js';

/** Window and filters of a dashboard call, from its query string (the same names as the reports). */
function dashboardRequest(p: URLSearchParams): ReportWindow & DashboardFilters {
  const f: DashboardFilters = {};
  for (const k of ['repo', 'team', 'developer', 'model'] as const) {
    const v = p.get(k)?.trim();
    if (v) f[k] = v;
  }
  return { ...parseWindow(p.get('since'), p.get('until')), ...f };
}

function seriesDimension(by: string | null): SeriesDimension {
  const v = (by ?? 'model').trim();
  if ((SERIES_DIMENSIONS as readonly string[]).includes(v)) return v as SeriesDimension;
  throw new PipelineError(
    'BAD_REQUEST',
    `by=${JSON.stringify(v)} is not a series dimension: use one of ${SERIES_DIMENSIONS.join(', ')}.`,
  );
}

function step(p: URLSearchParams, window: ReportWindow): number {
  const text = p.get('step')?.trim();
  if (!text) return autoStep(window);
  if (!/^\d{1,7}$/.test(text))
    throw new PipelineError(
      'BAD_REQUEST',
      `step=${JSON.stringify(text)}: whole seconds, e.g. 3600.`,
    );
  return Number(text);
}

function prNumber(text: string | null): number | null {
  const t = (text ?? '').trim();
  if (t === '' || t === 'none' || t === '0') return null;
  if (!/^\d{1,10}$/.test(t))
    throw new PipelineError('BAD_REQUEST', `pr=${JSON.stringify(t)}: a PR number, or none.`);
  return Number(t);
}

/**
 * The dashboard's own routes (GET /api/v1/dashboard/<name>), beside the reports: totals, time series,
 * a PR's sessions and a session's timeline. `needsFindings` runs first where waste findings are read
 * (a running server flushes its sink and scans idle sessions, as for `report waste`).
 */
export function dashboardApi(
  client: ClickHouseClient,
  db: string,
  needsFindings: () => Promise<void> = () => Promise.resolve(),
): Record<string, (p: URLSearchParams) => Promise<unknown>> {
  return {
    'dashboard/summary': async (p) => ({
      report: 'dashboard/summary',
      rows: [await dashboardSummary(client, { db, ...dashboardRequest(p) })],
    }),
    'dashboard/filters': async (p) => {
      const w = parseWindow(p.get('since'), p.get('until'));
      return { report: 'dashboard/filters', rows: [await dashboardFilters(client, { db, ...w })] };
    },
    'dashboard/series': async (p) => {
      const req = dashboardRequest(p);
      const s = step(p, req);
      return {
        report: 'dashboard/series',
        step: s,
        rows: await costSeries(client, { db, ...req, by: seriesDimension(p.get('by')), step: s }),
      };
    },
    'dashboard/waste-series': async (p) => {
      await needsFindings();
      const req = dashboardRequest(p);
      const s = step(p, req);
      return {
        report: 'dashboard/waste-series',
        step: s,
        rows: await wasteSeries(client, { db, ...req, step: s }),
      };
    },
    'dashboard/pr-sessions': async (p) => {
      const prRepo = p.get('pr_repo')?.trim();
      if (!prRepo)
        throw new PipelineError('BAD_REQUEST', 'pr_repo is missing: the PR row repository.');
      return {
        report: 'dashboard/pr-sessions',
        rows: await prSessions(client, {
          db,
          ...dashboardRequest(p),
          prRepo,
          pr: prNumber(p.get('pr')),
        }),
      };
    },
    'dashboard/session': async (p) => {
      const session = p.get('session')?.trim();
      if (!session) throw new PipelineError('BAD_REQUEST', 'session is missing: a session id.');
      await needsFindings();
      return { report: 'dashboard/session', rows: await sessionTimeline(client, { db, session }) };
    },
  };
}
