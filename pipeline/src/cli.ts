import { parseArgs } from 'node:util';
import {
  DataFolderLockedError,
  formatUsd,
  insertPrFacts,
  migrateDown,
  migrateUp,
  openStore,
} from '@harness-meter/queries';
import { loadConfig, storeOptions, type Config } from './config.js';
import { startEmbedded } from './embedded.js';
import { createLogger } from './logger.js';
import { formatRows, type OutputFormat } from './report/format.js';
import {
  NEEDS_DETECTION,
  REPORT_NAMES,
  runReport,
  type ReportName,
  type ReportRequest,
} from './report/service.js';
import { scanStaleSessions } from './detect/index.js';
import { authHeaders, fetchReport, findServer, postAction } from './report/remote.js';
import { KEYS_USAGE, runKeysCommand } from './auth/cli.js';
import { runDemo } from './demo/harness.js';
import { parseTime } from './report/params.js';
import { describePrice, loadPriceBook } from './price/index.js';
import { repriceStoredCosts, summarize, type RepriceSummary } from './reprice/index.js';
import { startKafkaPipeline, type KafkaRole } from './kafka/run.js';
import { gatherStamp, readStdinIfPiped, stampRequest } from './stamp-cli.js';
import { formatAlertsCheck, runAlertsCheck } from './alerts/cli.js';
import { injectSpike } from './demo/spike.js';
import { readGitHistory, readPrsFile, type PrFacts } from './github/index.js';
import { importGitLines, importIncidents } from './github/git-cli.js';
import { runTranscriptImport, TRANSCRIPT_KINDS } from './transcripts/cli.js';

const USAGE = `harness-meter: the cost and waste of AI coding agents

Usage:
  harness-meter start                      run every stage in one process (OTLP/HTTP on HM_HOST:HM_PORT);
                                           with HM_KAFKA_BROKERS set, the stages are joined through Kafka
  harness-meter run ingest|enrich          run one stage (Kafka mode), to scale it out
  harness-meter demo [--endpoint URL] [--spike]
                                           play example agent sessions against a running server
                                           (--spike: a spend spike on 4 weeks of history, to see alerts)
  harness-meter report cost-per-pr [opts]  tokens and dollars per pull request
  harness-meter report cost --by D [opts]  ... per developer|team|repo|model|provider|source|day|month|session
  harness-meter report blocks [opts]       Claude usage in 5-hour billing blocks (as ccusage blocks)
  harness-meter report waste --by D [opts] redundant calls per kind|tool|mcp_server|session|developer|team|repo|pr,
                                            or --by call: each finding, the span it repeats, kind, reason, dollars
  harness-meter report unpriced [opts]     LLM calls whose model has no price: model, provider, calls, tokens
  harness-meter report usage-check [opts]  LLM calls whose usage parts do not add up (cache > input, split ≠ total)
  harness-meter report cost-drift [--tolerance PCT] [opts]
                                           where a reported cost differs from the computed one, and why
  harness-meter report linkage [opts]      spend attributed to PRs, by rule (explicit, commit, branch, trailer), and unattributed
  harness-meter report cost-per-merged-pr | spend-per-developer | time-to-merge | first-pass | review-velocity
                                           harness metrics (see the README, "PR linkage and metrics")
  harness-meter report churn | survival | defects [--by repo|team|developer|model|intent|pr] [opts]
                                           agent-touched against human code, from git history (import git)
  harness-meter prices show MODEL [--provider P] [--at DATE]
                                           how a model name resolves, the price row in force, its source
  harness-meter reprice [--since T] [--model M]
                                           recompute stored costs after price data or HM_PRICES_FILE changed
  harness-meter stamp [--session ID] [--pr N] stamp the session's repository, branch, commit and PR (from git;
                                           run it from the agent's hooks: reads {session_id, cwd} on stdin)
  harness-meter alerts check [--at TIME]   evaluate the alert rules now (or at TIME) and deliver what changed
  harness-meter report alerts [opts]       alert notices (warn, firing, resolved) and their delivery
  harness-meter import prs FILE [--pr N]   store PR facts from GitHub REST JSON (gh api …: pulls, reviews, commits)
  harness-meter keys create --role ingest|read|admin [--team T] [--developer D] [--name N]
                                           an API key (printed once, last line); keys list; keys revoke ID
  harness-meter import git PATH [--repo O/R] [--base B] [--full]
                                           store a local repository's commits, with Agent-Session trailers,
                                           and follow the lines each PR added (churn, survival, defects;
                                           only commits since the last import unless --full)
  harness-meter import incidents FILE [--repo O/R]
                                           incidents (CSV or JSON: id, opened_at, pr or commit) as defects
  harness-meter import claude-code [DIR…] | codex [DIR] | gemini [DIR] [--developer D] [--watch]
                                           import the transcripts agents already write (README, "Try it on your own history")
  harness-meter migrate [--down VERSION]   apply (or revert) schema migrations without starting

Report options:
  --since T    start of the window (ISO date/time, or 30m, 24h, 7d, 2w back from now; default 30d)
  --until T    end of the window (default now)
  --repo R     only this repository (cost-per-pr and the PR metrics)
  --team T, --developer D   only spend of this team / developer (cost-per-pr and the PR metrics)
  --model M    reprice: only calls of this model
  --tolerance PCT  cost-drift: relative difference ignored, in percent (default 1)
  --format F   table (default), json or csv

Configuration is read from the environment (HM_DATA_DIR, HM_PORT, HM_CLICKHOUSE_URL, ...): see the README.
`;

const out = (s: string): boolean => process.stdout.write(s);
const err = (s: string): boolean => process.stderr.write(s);

/** Runs until SIGINT/SIGTERM, then stops within the shutdown bound (exit 0), or exits 1 past it. */
async function serveUntilSignal(stop: () => Promise<void>, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string): void => {
      signals++;
      if (signals > 1) process.exit(130);
      out(`\n${sig}: stopping (finishing in-flight work)...\n`);
      const timer = setTimeout(() => {
        err(`did not stop within ${timeoutMs} ms (HM_SHUTDOWN_TIMEOUT_MS); exiting.\n`);
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      stop().then(resolve, (e: unknown) => {
        err(`error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  out('stopped.\n');
}

async function cmdStart(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  if (config.kafka.brokers.length > 0) {
    await cmdRun(config, ['ingest', 'enrich']);
    return;
  }
  const server = await startEmbedded(config, logger);
  out(
    `harness-meter is running (embedded: every stage in this process)\n` +
      `  OTLP/HTTP receiver: ${server.receiver.url}/v1/traces  (protobuf or JSON, gzip ok)\n` +
      `  reports API:        ${server.receiver.url}/api/v1/reports/cost-per-pr\n` +
      `  data:               ${config.clickhouseUrl ?? config.dataDir} (database ${config.database})\n` +
      `Press Ctrl-C to stop.\n`,
  );
  await serveUntilSignal(() => server.stop(), config.shutdownTimeoutMs);
}

async function cmdRun(config: Config, roles: KafkaRole[]): Promise<void> {
  const logger = createLogger(config.logLevel);
  const pipeline = await startKafkaPipeline(config, roles, logger);
  out(
    `harness-meter is running stage(s) ${roles.join(' + ')} over Kafka (${config.kafka.brokers.join(',')})\n` +
      (roles.includes('ingest')
        ? `  OTLP/HTTP receiver: ${pipeline.receiver.url}/v1/traces\n`
        : '') +
      `  metrics:            ${pipeline.receiver.url}/metrics\n` +
      (roles.includes('enrich')
        ? `  data:               ${config.clickhouseUrl ?? config.dataDir} (database ${config.database})\n`
        : '') +
      `Press Ctrl-C to stop.\n`,
  );
  await serveUntilSignal(() => pipeline.stop(), config.shutdownTimeoutMs);
}

async function cmdReport(
  config: Config,
  name: string | undefined,
  values: Record<string, string | boolean | undefined>,
): Promise<void> {
  if (!name || !(REPORT_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(
      `Unknown report ${JSON.stringify(name ?? '')}: use one of ${REPORT_NAMES.join(', ')}.`,
    );
  }
  const format = String(values.format ?? 'table') as OutputFormat;
  if (!['table', 'json', 'csv'].includes(format))
    throw new UsageError(`--format ${format}: use table, json or csv.`);
  const req: ReportRequest = {
    since: typeof values.since === 'string' ? values.since : null,
    until: typeof values.until === 'string' ? values.until : null,
    by: typeof values.by === 'string' ? values.by : null,
    repo: typeof values.repo === 'string' ? values.repo : null,
    tolerance: typeof values.tolerance === 'string' ? values.tolerance : null,
    team: typeof values.team === 'string' ? values.team : null,
    developer: typeof values.developer === 'string' ? values.developer : null,
  };
  const report = name as ReportName;
  let rows: readonly Record<string, unknown>[];
  const server = await findServer(config.apiUrl);
  if (server) {
    rows = await fetchReport(config.apiUrl, report, req, config.apiKey);
  } else {
    const client = await openStore(storeOptions(config));
    try {
      await migrateUp(client, config.database);
      if (NEEDS_DETECTION.includes(report))
        await scanStaleSessions(client, config.database, loadPriceBook(config.pricesFile), 0);
      rows = (await runReport(client, config.database, report, req)) as unknown as Record<
        string,
        unknown
      >[];
    } finally {
      await client.close();
    }
  }
  const heading =
    format === 'table'
      ? `${report === 'cost' ? `cost by ${req.by ?? 'developer'}` : report === 'waste' ? `waste by ${req.by ?? 'kind'}` : report}${server ? ` (from ${config.apiUrl})` : ''}`
      : '';
  out(formatRows(report, rows, format, heading));
}

async function cmdMigrate(config: Config, down: string | undefined): Promise<void> {
  const client = await openStore(storeOptions(config));
  try {
    const result =
      down === undefined
        ? await migrateUp(client, config.database)
        : await migrateDown(client, config.database, Number(down));
    out(
      `schema at version ${result.current}; ${result.applied.length === 0 ? 'nothing to do' : `${down === undefined ? 'applied' : 'reverted'} ${result.applied.map((m) => `${m.version}_${m.name}`).join(', ')}`}\n`,
    );
  } finally {
    await client.close();
  }
}

async function cmdReprice(
  config: Config,
  values: Record<string, string | boolean | undefined>,
): Promise<void> {
  const since = typeof values.since === 'string' ? parseTime(values.since, '--since') : undefined;
  const model = typeof values.model === 'string' ? values.model : undefined;
  const server = await findServer(config.apiUrl);
  let r: RepriceSummary;
  if (server) {
    // The server holds the store: it reloads its prices (new calls priced alike) and re-prices.
    r = await postAction<RepriceSummary>(
      config.apiUrl,
      'reprice',
      { since: since?.toISOString(), model },
      undefined,
      config.apiKey,
    );
  } else {
    const book = loadPriceBook(config.pricesFile);
    const client = await openStore(storeOptions(config));
    try {
      await migrateUp(client, config.database);
      const result = await repriceStoredCosts(client, book, {
        db: config.database,
        ...(since === undefined ? {} : { since }),
        ...(model === undefined ? {} : { model }),
        logger: createLogger(config.logLevel),
      });
      r = summarize(result, since, model);
    } finally {
      await client.close();
    }
  }
  const delta = BigInt(r.deltaNanos);
  const sign = delta < 0n ? '-' : '+';
  const abs = delta < 0n ? -delta : delta;
  out(
    `reprice: ${r.scanned} LLM call(s) checked${since ? ` since ${since.toISOString()}` : ''}${model ? ` for model ${model}` : ''}` +
      ` with ${config.pricesFile ? `the bundled table + ${config.pricesFile}` : 'the bundled table'}` +
      `${server ? ` (by the server at ${config.apiUrl}, which now prices new calls the same way)` : ''}\n` +
      `  changed:      ${r.changed} (${r.nowPriced} newly priced, ${r.nowUnpriced} now unpriced)\n` +
      `  total delta:  ${sign}$${formatUsd(abs, 9)} (${r.deltaNanos} nano-USD)\n` +
      (r.changed === 0 ? '  nothing to change: stored costs match the current prices.\n' : ''),
  );
}

async function cmdImport(
  config: Config,
  kind: string | undefined,
  target: string | undefined,
  values: Record<string, string | boolean | undefined>,
): Promise<void> {
  if (
    (kind !== 'prs' && kind !== 'git' && kind !== 'incidents') ||
    target === undefined ||
    target.trim() === ''
  )
    throw new UsageError(
      'Usage: harness-meter import prs FILE [--pr N] | import git PATH [--repo O/R] [--base B] [--full] | import incidents FILE [--repo O/R].',
    );
  if (kind === 'incidents') {
    out(
      await importIncidents(
        config,
        target,
        typeof values.repo === 'string' ? { repo: values.repo } : {},
      ),
    );
    return;
  }
  let facts: PrFacts;
  if (kind === 'prs') {
    const pr = typeof values.pr === 'string' ? Number(values.pr.replace(/^#/, '')) : undefined;
    if (pr !== undefined && (!Number.isInteger(pr) || pr <= 0))
      throw new UsageError(`--pr ${String(values.pr)}: give the PR number, e.g. --pr 42.`);
    facts = readPrsFile(target, pr === undefined ? {} : { pr });
  } else {
    facts = {
      events: [],
      commits: readGitHistory(target, {
        ...(typeof values.repo === 'string' ? { repo: values.repo } : {}),
        ...(typeof values.base === 'string' ? { base: values.base } : {}),
      }),
    };
  }
  // A running server holds the store: it stores the facts read here; otherwise open the store.
  const server = await findServer(config.apiUrl);
  if (server) {
    await postAction(config.apiUrl, 'import/pr-facts', {}, facts, config.apiKey);
  } else {
    const client = await openStore(storeOptions(config));
    try {
      await migrateUp(client, config.database);
      await insertPrFacts(client, config.database, facts);
    } finally {
      await client.close();
    }
  }
  const sessions = new Set(facts.commits.map((c) => c.session_id).filter((s) => s !== '')).size;
  out(
    `import ${kind}: ${facts.events.length} PR event(s), ${facts.commits.length} commit(s)` +
      (kind === 'git' ? ` (${sessions} agent session(s) named by Agent-Session trailers)` : '') +
      ` stored in ${config.database}${server ? ` by the server at ${config.apiUrl}` : ''}\n`,
  );
  if (kind === 'git')
    out(
      await importGitLines(config, target, {
        ...(typeof values.repo === 'string' ? { repo: values.repo } : {}),
        ...(typeof values.base === 'string' ? { base: values.base } : {}),
        full: values.full === true,
      }),
    );
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      by: { type: 'string' },
      repo: { type: 'string' },
      format: { type: 'string', short: 'f' },
      endpoint: { type: 'string' },
      down: { type: 'string' },
      provider: { type: 'string' },
      at: { type: 'string' },
      model: { type: 'string' },
      tolerance: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      session: { type: 'string' },
      cwd: { type: 'string' },
      pr: { type: 'string' },
      team: { type: 'string' },
      spike: { type: 'boolean' },
      base: { type: 'string' },
      full: { type: 'boolean' },
      developer: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      watch: { type: 'boolean' },
      'capture-content': { type: 'boolean' },
      settle: { type: 'string' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return command || values.help ? 0 : 1;
  }
  const config = loadConfig();
  switch (command) {
    case 'start':
      await cmdStart(config);
      return 0;
    case 'run': {
      if (sub !== 'ingest' && sub !== 'enrich')
        throw new UsageError(
          `harness-meter run takes a stage: ingest or enrich (got ${JSON.stringify(sub ?? '')}).`,
        );
      if (config.kafka.brokers.length === 0)
        throw new UsageError(
          'harness-meter run needs HM_KAFKA_BROKERS: the stages talk through Kafka.',
        );
      await cmdRun(config, [sub]);
      return 0;
    }
    case 'report':
      await cmdReport(config, sub, values);
      return 0;
    case 'demo': {
      const endpoint = values.endpoint ?? `${config.apiUrl}/v1/traces`;
      if (values.endpoint === undefined && !(await findServer(config.apiUrl))) {
        throw new UsageError(
          `No harness-meter server answers at ${config.apiUrl}. Start one first (npm start), or pass --endpoint URL.`,
        );
      }
      if (values.spike) {
        const n = await injectSpike(endpoint, Date.now(), authHeaders(config.apiKey));
        out(
          `demo --spike: ${n} spans sent to ${endpoint}: erin's usual $0.90 at this hour over 4 weeks, then $10.80 in 4 minutes\n` +
            `the pipeline raises developer-spike and runaway-session within seconds: npx harness-meter report alerts\n`,
        );
        return 0;
      }
      const summary = await runDemo({ endpoint, headers: authHeaders(config.apiKey) });
      out(
        `demo: ${summary.sessions} sessions, ${summary.llmCalls} LLM calls, ${summary.toolCalls} tool calls sent to ${endpoint}\n` +
          `now try: npx harness-meter report cost-per-pr\n`,
      );
      return 0;
    }
    case 'stamp': {
      const facts = gatherStamp({
        session: values.session,
        cwd: values.cwd,
        pr: values.pr,
        team: values.team,
        stdin: readStdinIfPiped(),
      });
      const res = await fetch(`${config.apiUrl}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(config.apiKey) },
        body: stampRequest(facts),
        signal: AbortSignal.timeout(5000),
      }).catch((e: unknown) => {
        throw new UsageError(
          `No harness-meter server answers at ${config.apiUrl} (${e instanceof Error ? e.message : String(e)}).`,
        );
      });
      if (!res.ok)
        throw new UsageError(
          `The server refused the stamp: HTTP ${res.status} ${await res.text()}`,
        );
      out(
        `stamped session ${facts.session}: ${facts.repositoryUrl || '(no repository)'} ${facts.branch || '(no branch)'}${facts.pr !== undefined ? ` PR #${facts.pr}` : ''}\n`,
      );
      return 0;
    }
    case 'alerts': {
      if (sub !== 'check') throw new UsageError('Usage: harness-meter alerts check [--at TIME].');
      const { result, via } = await runAlertsCheck(config, values.at);
      out(
        values.format === 'json'
          ? JSON.stringify(result, null, 2) + '\n'
          : formatAlertsCheck(result, via),
      );
      return 0;
    }
    case 'import':
      if (sub !== undefined && sub in TRANSCRIPT_KINDS)
        await runTranscriptImport(
          config,
          {
            kind: sub,
            paths: positionals.slice(2),
            developer: values.developer,
            watch: values.watch,
            captureContent: values['capture-content'],
            settleSeconds: values.settle,
          },
          out,
        );
      else await cmdImport(config, sub, positionals[2], values);
      return 0;
    case 'keys':
      if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(KEYS_USAGE);
      out(await runKeysCommand(config, sub, positionals[2], values));
      return 0;
    case 'migrate':
      await cmdMigrate(config, values.down);
      return 0;
    case 'reprice':
      await cmdReprice(config, values);
      return 0;
    case 'prices': {
      const model = positionals[2];
      if (sub !== 'show' || model === undefined || model.trim() === '')
        throw new UsageError('Usage: harness-meter prices show MODEL [--provider P] [--at DATE].');
      const at = values.at === undefined ? new Date() : parseTime(values.at, '--at');
      out(describePrice(loadPriceBook(config.pricesFile), values.provider ?? '', model, at));
      return 0;
    }
    default:
      throw new UsageError(`Unknown command ${JSON.stringify(command)}.`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) err(`${e.message}\n\n${USAGE}`);
    else if (e instanceof DataFolderLockedError) err(`error: ${e.message}\n`);
    else if (e instanceof Error && 'code' in e)
      err(`error [${String((e as { code: unknown }).code)}]: ${e.message}\n`);
    else err(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
