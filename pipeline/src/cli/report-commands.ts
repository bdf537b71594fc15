/**
 * `harness-meter report <name>`: one subcommand per report, each with only the flags it takes.
 * Registration only: what a report does when it runs is in report-run.ts, imported then (the store
 * client, the report service and the price tables stay unloaded for `--help`).
 */
import { Option, type Command } from 'commander';
import { COST_DIMENSIONS, GIT_DIMENSIONS, WASTE_DIMENSIONS } from '@harness-meter/queries/pure';
import { LINK_REPORT_NAMES, type ReportName } from '../report/names.js';
import type { CliContext, CommandGroup } from './common.js';

export type Filter = 'by' | 'breakdown' | 'repo' | 'team' | 'developer' | 'tolerance';

export interface ReportSpec {
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
export interface ReportFlags {
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
  cmd.action(async (flags: ReportFlags) =>
    (await import('./report-run.js')).runOne(ctx, spec, flags),
  );
}
