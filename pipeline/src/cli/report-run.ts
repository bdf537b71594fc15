/** What `harness-meter report <name>` does when it runs (report-commands.ts registers it). */
import { resolve } from 'node:path';
import type { ClickHouseClient } from '@harness-meter/queries';
import { storeOptions, type Config } from '../config.js';
import type { OutputFormat } from '../report/format.js';
import { parseTolerance, parseWindow } from '../report/params.js';
import { PipelineError } from '../errors.js';
import { findServer, remoteError } from '../report/remote.js';
import { NEEDS_DETECTION, type ReportName } from '../report/names.js';
import type { ReportRequest } from '../report/service.js';
import {
  answerJson,
  isHarnessMeterAnswer,
  requestReport,
  verbatimEnvelope,
} from './report-request.js';
import { localStoreExists, noServerNoData, UsageError, type CliContext } from './common.js';
import type { ReportFlags, ReportSpec } from './report-commands.js';

type Row = Record<string, unknown>;

function outputFormat(flags: ReportFlags, command: string): OutputFormat {
  const chosen = [
    flags.json ? 'json' : undefined,
    flags.csv ? 'csv' : undefined,
    flags.format,
  ].filter((f): f is string => f !== undefined);
  if (new Set(chosen).size > 1)
    throw new UsageError(
      `conflicting output formats (${chosen.join(', ')}): give one of --json, --csv or --format.`,
      command,
    );
  return (chosen[0] ?? 'table') as OutputFormat;
}

/** Sorts by the report's natural key: time for day/alert rows, else cost (most first). */
function orderRows(
  rows: Row[],
  spec: ReportSpec,
  by: string | undefined,
  order: 'asc' | 'desc',
): Row[] {
  const byTime = (spec.name === 'cost' && by === 'day') || spec.name === 'alerts';
  const field = byTime ? (spec.name === 'alerts' ? 'at' : 'key') : undefined;
  const costOf = (r: Row): bigint => {
    const v = r.cost_nanos ?? r.total_cost_nanos ?? r.drift_nanos;
    try {
      return typeof v === 'string' || typeof v === 'number' ? BigInt(v) : -1n;
    } catch {
      return -1n;
    }
  };
  const sign = order === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const text = (r: Row): string => {
      const v = field === undefined ? undefined : r[field];
      return typeof v === 'string' ? v : '';
    };
    if (field) return sign * text(a).localeCompare(text(b));
    const d = costOf(a) - costOf(b);
    return sign * (d < 0n ? -1 : d > 0n ? 1 : 0);
  });
}

/** What a running server answered: its rows, or (when asked for) its body to print as it came. */
type Remote = { rows: Row[] } | { verbatim: Buffer };

/**
 * The rows from a running server, or `undefined` when none answers at HM_API_URL. The report is
 * asked for straight away; only an answer that is not harness-meter's (or none after connecting)
 * costs a `/healthz` check, which decides, as it always did, between that server's error and the
 * local folder. With `verbatim`, harness-meter's envelope for this request comes back unparsed.
 */
async function remoteRows(
  config: Config,
  name: ReportName,
  req: ReportRequest,
  verbatim: boolean,
): Promise<Remote | undefined> {
  const answer = await requestReport(config.apiUrl, name, req, config.apiKey);
  if (answer.kind === 'no-server') return undefined;
  if (
    verbatim &&
    answer.kind === 'http' &&
    answer.status === 200 &&
    verbatimEnvelope(answer.body, name, req)
  )
    return { verbatim: answer.body };
  const json = answer.kind === 'http' ? answerJson(answer.body) : undefined;
  // Anything but harness-meter's answer: /healthz decides between this server and the folder.
  const ours = answer.kind === 'http' && isHarnessMeterAnswer(json);
  if (!ours && !(await findServer(config.apiUrl))) return undefined;
  if (answer.kind === 'no-answer')
    throw new PipelineError(
      'SERVER_UNREACHABLE',
      `The harness-meter server at ${config.apiUrl} did not answer (${answer.error.message}). Is it still running?`,
      { retriable: true, cause: answer.error },
    );
  if (json === undefined)
    throw new PipelineError(
      'SERVER_UNREACHABLE',
      `${config.apiUrl} answered HTTP ${answer.status} with something that is not harness-meter's JSON (${JSON.stringify(answer.body.subarray(0, 480).toString('utf8').slice(0, 120))}): is HM_API_URL the harness-meter server?`,
    );
  const body = (typeof json === 'object' && json !== null ? json : {}) as {
    rows?: Row[];
    error?: string;
  };
  if (answer.status < 200 || answer.status > 299)
    throw remoteError(config.apiUrl, answer.status, body.error);
  return { rows: body.rows ?? [] };
}

/**
 * Waste detection before a report from the folder, bounded as on a server (the detect stage's
 * catch-up): with few stale sessions all are scanned; after a bulk load or a backfill the report
 * waits DETECT_DEFAULTS.catchUpWaitMs, the scan stops between sessions, and the report reads the
 * findings stored so far. It used to scan every stale session first (up to 500, 20 to 250 ms
 * each at 10M spans). Each run scans some more; a running server scans the rest in the background.
 */
async function boundedCatchUp(
  client: ClickHouseClient,
  config: Config,
  log: (text: string) => void,
): Promise<void> {
  const { DETECT_DEFAULTS, startDetectStage } = await import('../detect/index.js');
  const { loadPriceBook } = await import('../price/index.js');
  const { createLogger } = await import('../logger.js');
  const { staleSessions } = await import('@harness-meter/queries');
  const book = loadPriceBook(config.pricesFile);
  // Its own log lines speak of a server's background round; the CLI says what happened below.
  const detect = startDetectStage(client, config.database, book, createLogger('warn'));
  const started = Date.now();
  try {
    await detect.catchUp();
  } finally {
    await detect.stop();
  }
  // Sooner than the wait: every stale session was scanned. Later: the scan may have been cut.
  if (Date.now() - started < DETECT_DEFAULTS.catchUpWaitMs) return;
  const left = await staleSessions(client, config.database, {
    idleMs: 0,
    limit: DETECT_DEFAULTS.maxSessionsPerRound,
  });
  if (left.length > 0)
    log(
      `note: ${left.length >= DETECT_DEFAULTS.maxSessionsPerRound ? `${left.length} or more` : left.length} ` +
        `sessions are not yet scanned for waste; this report counts the findings stored so far. ` +
        `Run it again to scan more, or start the server (harness-meter start), which scans them in the background.\n`,
    );
}

async function readRows(
  config: Config,
  name: ReportName,
  req: ReportRequest,
  verbatim: boolean,
  log: (text: string) => void,
): Promise<(Remote & { via: string }) | { rows: Row[]; via: null }> {
  const remote = await remoteRows(config, name, req, verbatim);
  if (remote) return { ...remote, via: config.apiUrl };
  // No server: read the folder, but never create one by accident.
  if (!localStoreExists(config)) throw noServerNoData(config);
  // Only here: a report from a running server needs none of the store, detection or prices.
  const { migrateUp, openStore } = await import('@harness-meter/queries');
  const { runReport } = await import('../report/service.js');
  const client = await openStore(storeOptions(config));
  try {
    await migrateUp(client, config.database);
    if (NEEDS_DETECTION.includes(name)) await boundedCatchUp(client, config, log);
    const rows = (await runReport(client, config.database, name, req)) as unknown as Row[];
    return { rows, via: null };
  } finally {
    await client.close();
  }
}

/** Runs one report with the flags commander parsed, and prints it. */
export async function runOne(ctx: CliContext, spec: ReportSpec, flags: ReportFlags): Promise<void> {
  const command = `report ${spec.name}`;
  if (flags.schema) {
    const { reportSchema } = await import('../report/schema.js');
    ctx.io.out(JSON.stringify(reportSchema(spec.name), null, 2) + '\n');
    return;
  }
  const format = outputFormat(flags, command);
  // Checked here, before any server or folder is touched: a bad value is a usage error (exit 2).
  let window: { since: Date; until: Date };
  try {
    window = parseWindow(flags.since, flags.until);
    if (spec.filters.includes('tolerance')) parseTolerance(flags.tolerance);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), command);
  }
  const req: ReportRequest = {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    by: flags.by ?? null,
    breakdown: flags.breakdown === true ? 'model' : null,
    repo: flags.repo ?? null,
    team: flags.team ?? null,
    developer: flags.developer ?? null,
    tolerance: flags.tolerance ?? null,
  };
  const config = ctx.config();
  // --json into a pipe or a file, in the server's order: the server's body is printed as it came
  // (one line), not parsed and indented again (2.5 MB of rows cost the CLI ~45 ms; issue 17). On a
  // terminal, or with --order, the rows are parsed and printed indented, as from the folder.
  const verbatim = format === 'json' && flags.order === undefined && !ctx.io.isTty;
  const answer = await readRows(config, spec.name, req, verbatim, (t) => ctx.io.err(t));
  if ('verbatim' in answer) {
    if (ctx.io.outBytes) ctx.io.outBytes(answer.verbatim);
    else ctx.io.out(answer.verbatim.toString('utf8'));
    if (answer.verbatim[answer.verbatim.length - 1] !== 0x0a) ctx.io.out('\n');
    return;
  }
  const { rows, via } = answer;
  const ordered = flags.order ? orderRows(rows, spec, flags.by, flags.order) : rows;
  const title =
    spec.by !== undefined ? `${spec.name} by ${flags.by ?? spec.by[0] ?? ''}` : spec.name;
  if (format === 'json' && via !== null) {
    // A server's rows are already machine rows (reportApi in report/service.ts applies
    // reportEnvelope): printed as they came, not converted a second time (thousands of rows cost
    // the CLI tens of ms; issue 17). The envelope is formatRows' JSON one, field for field.
    const envelope = { report: spec.name, since: req.since, until: req.until, rows: ordered };
    ctx.io.out(JSON.stringify(envelope, null, 2) + '\n');
    return;
  }
  const columns = Number(ctx.io.env.COLUMNS);
  const { formatRows } = await import('../report/format.js');
  ctx.io.out(
    formatRows(spec.name, ordered, format, {
      window,
      heading: `${title}${via ? ` (from ${via})` : ` (${config.clickhouseUrl ?? resolve(config.dataDir)})`}, ${window.since.toISOString().slice(0, 16)}Z – ${window.until.toISOString().slice(0, 16)}Z`,
      wide: flags.wide === true,
      color: ctx.io.isTty && !ctx.io.env.NO_COLOR,
      ...(Number.isInteger(columns) && columns > 0
        ? { width: columns }
        : ctx.io.isTty
          ? { width: process.stdout.columns }
          : {}),
    }),
  );
}
