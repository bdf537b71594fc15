/** `harness-meter report <name>`: one subcommand per report, each with only the flags it takes. */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  COST_DIMENSIONS,
  GIT_DIMENSIONS,
  migrateUp,
  openStore,
  WASTE_DIMENSIONS,
} from '@harness-meter/queries';
import { storeOptions, type Config } from '../config.js';
import { scanStaleSessions } from '../detect/index.js';
import { loadPriceBook } from '../price/index.js';
import { formatRows, type OutputFormat } from '../report/format.js';
import { parseTolerance, parseWindow } from '../report/params.js';
import { reportSchema } from '../report/schema.js';
import { fetchReport, findServer } from '../report/remote.js';
import {
  LINK_REPORT_NAMES,
  NEEDS_DETECTION,
  runReport,
  type ReportName,
  type ReportRequest,
} from '../report/service.js';
import {
  localStoreExists,
  noServerNoData,
  UsageError,
  type CliContext,
  type CommandGroup,
} from './common.js';

type Row = Record<string, unknown>;
type Filter = 'by' | 'breakdown' | 'repo' | 'team' | 'developer' | 'tolerance';

interface ReportSpec {
  name: ReportName;
  summary: string;
  filters: Filter[];
  /** Choices of --by, first is the default. */
  by?: readonly string[];
  examples: string[];
}

const LINKED: Filter[] = ['repo', 'team', 'developer'];

/** Every report the CLI offers; the HTTP API serves the same names. */
export const REPORTS: readonly ReportSpec[] = [
  {
    name: 'cost-per-pr',
    summary: 'tokens and dollars per pull request (spend charged by PR linkage)',
    filters: LINKED,
    examples: ['report cost-per-pr', 'report cost-per-pr -s 20261101 --repo acme/api --json'],
  },
  {
    name: 'cost',
    summary: 'tokens and dollars by developer, team, repo, model, provider, source, day or session',
    filters: ['by', 'breakdown'],
    by: ['developer', ...COST_DIMENSIONS.filter((d) => d !== 'developer')],
    examples: [
      'report cost --by team',
      'report cost --by day --order asc -s 7d',
      'report cost --by day --breakdown   # each day, then its models indented under it',
    ],
  },
  {
    name: 'waste',
    summary: 'redundant agent work (re-reads, repeated searches, retry loops) and its cost',
    filters: ['by'],
    by: ['kind', ...WASTE_DIMENSIONS.filter((d) => d !== 'kind'), 'call'],
    examples: [
      'report waste',
      'report waste --by tool --csv > waste.csv',
      'report waste --by call   # each finding, the span it repeats, kind, reason, dollars',
    ],
  },
  {
    name: 'blocks',
    summary: "Claude usage in 5-hour billing blocks (ccusage's blocks rule)",
    filters: [],
    examples: ['report blocks -s 7d'],
  },
  {
    name: 'unpriced',
    summary: 'LLM calls whose model has no price: model, provider, calls, tokens',
    filters: [],
    examples: ['report unpriced'],
  },
  {
    name: 'usage-check',
    summary: 'LLM calls whose usage parts do not add up (cache > input, split ≠ total)',
    filters: [],
    examples: ['report usage-check -s 24h'],
  },
  {
    name: 'cost-drift',
    summary: 'where a reported cost differs from the computed one, and why',
    filters: ['tolerance'],
    examples: ['report cost-drift --tolerance 2.5'],
  },
  {
    name: 'metrics-check',
    summary: "agents' own usage counters beside the totals of their events",
    filters: [],
    examples: ['report metrics-check'],
  },
  {
    name: 'alerts',
    summary: 'alert notices (warn, firing, resolved) and their delivery, newest first',
    filters: [],
    examples: ['report alerts -s 7d'],
  },
  {
    name: 'linkage',
    summary: 'spend attributed to PRs by rule (explicit, commit, branch, trailer), and what is not',
    filters: LINKED,
    examples: ['report linkage'],
  },
  ...(
    [
      [
        'churn',
        'code churn: agent-touched lines rewritten or removed within 14 days, against human',
      ],
      ['survival', 'agent-written lines still alive 30 days after merge, against human'],
      ['defects', 'defect escape: PRs a later revert, fix or incident traces back to'],
    ] as const
  ).map(([name, summary]): ReportSpec => ({
    name,
    summary: `${summary} (from import git)`,
    filters: ['by', 'team', 'developer'],
    by: GIT_DIMENSIONS,
    examples: [`report ${name}`, `report ${name} --by developer -s 90d`],
  })),
  ...LINK_REPORT_NAMES.filter((n) => n !== 'linkage').map((name): ReportSpec => ({
    name,
    summary: `harness metric: ${name.replace(/-/g, ' ')} (README, "PR linkage and the harness metrics")`,
    filters: LINKED,
    examples: [`report ${name} --team payments`],
  })),
];

/** The options every report takes, as commander parsed them. */
interface ReportFlags {
  format?: string;
  json?: boolean;
  csv?: boolean;
  since?: string;
  until?: string;
  order?: 'asc' | 'desc';
  wide?: boolean;
  schema?: boolean;
  by?: string;
  breakdown?: boolean;
  repo?: string;
  team?: string;
  developer?: string;
  tolerance?: string;
}

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

async function readRows(
  config: Config,
  name: ReportName,
  req: ReportRequest,
): Promise<{ rows: Row[]; via: string | null }> {
  if (await findServer(config.apiUrl)) {
    return { rows: await fetchReport(config.apiUrl, name, req, config.apiKey), via: config.apiUrl };
  }
  // No server: read the folder, but never create one by accident.
  if (!localStoreExists(config)) throw noServerNoData(config);
  const client = await openStore(storeOptions(config));
  try {
    await migrateUp(client, config.database);
    if (NEEDS_DETECTION.includes(name))
      await scanStaleSessions(client, config.database, loadPriceBook(config.pricesFile), 0);
    const rows = (await runReport(client, config.database, name, req)) as unknown as Row[];
    return { rows, via: null };
  } finally {
    await client.close();
  }
}

async function runOne(ctx: CliContext, spec: ReportSpec, flags: ReportFlags): Promise<void> {
  const command = `report ${spec.name}`;
  if (flags.schema) {
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
  const { rows, via } = await readRows(config, spec.name, req);
  const ordered = flags.order ? orderRows(rows, spec, flags.by, flags.order) : rows;
  const title =
    spec.by !== undefined ? `${spec.name} by ${flags.by ?? spec.by[0] ?? ''}` : spec.name;
  const columns = Number(ctx.io.env.COLUMNS);
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

export const registerReportCommands: CommandGroup = (program, ctx) => {
  const report = program
    .command('report')
    .description(
      'print a report (tokens, dollars, waste, PR metrics) from a running server or the data folder',
    )
    .addHelpText(
      'after',
      `\nReports read a running server (HM_API_URL) when one answers, else the data folder (HM_DATA_DIR).\nExamples:\n  harness-meter report cost-per-pr\n  harness-meter report cost --by model --json\n  harness-meter help report waste`,
    );
  for (const spec of REPORTS) addReport(report, spec, ctx);
};

function addReport(parent: Command, spec: ReportSpec, ctx: CliContext): void {
  const cmd = parent
    .command(spec.name)
    .description(spec.summary)
    .option(
      '-s, --since <time>',
      'start of the window: YYYYMMDD, ISO date or date-time, now, or 30m/24h/7d/2w back (default 30d)',
    )
    .option('-u, --until <time>', 'end of the window (same forms; default now)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']),
    )
    .option('--json', 'shorthand for --format json (same shape as the HTTP API)')
    .option('--csv', 'shorthand for --format csv')
    .addOption(
      new Option('--order <order>', 'sort by cost (by date for cost --by day and alerts)').choices([
        'asc',
        'desc',
      ]),
    )
    .option('--wide', 'every column, whatever the terminal width')
    .option('--schema', 'print the JSON Schema of --json for this report, and read nothing');
  if (spec.by)
    cmd.addOption(
      new Option('--by <dimension>', `group by (default ${spec.by[0] ?? ''})`).choices([
        ...spec.by,
      ]),
    );
  if (spec.filters.includes('breakdown'))
    cmd.option(
      '--breakdown',
      'under each row, its per-model rows (JSON: a models array per row; CSV: a line per model)',
    );
  if (spec.filters.includes('repo'))
    cmd.option('--repo <repo>', 'only this repository (URL or owner/name)');
  if (spec.filters.includes('team')) cmd.option('--team <team>', "only this team's spend");
  if (spec.filters.includes('developer'))
    cmd.option('--developer <developer>', "only this developer's spend");
  if (spec.filters.includes('tolerance'))
    cmd.option(
      '--tolerance <pct>',
      'relative difference ignored, in percent of the computed cost (default 1)',
    );
  cmd.addHelpText(
    'after',
    `\nExamples:\n${spec.examples.map((e) => `  harness-meter ${e}`).join('\n')}`,
  );
  cmd.action(async (flags: ReportFlags) => runOne(ctx, spec, flags));
}
