/** `start`, `run ingest|enrich` and `migrate`: the long-running server and its schema. */
import { createServer } from 'node:net';
import { Argument, Option } from 'commander';
import type { Config } from '../config.js';
import type { KafkaRole } from '../kafka/run.js';
import { createLogger } from '../logger.js';
import { REPORTS } from './report-commands.js';
import { CliFailure, UsageError, type CliIo, type CommandGroup } from './common.js';

/**
 * Fails before anything else is opened (no migration, no folder lock) when HM_HOST:HM_PORT is
 * taken, with the setting that changes it.
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        reject(
          new CliFailure(
            `port ${port} on ${host} is already in use (another harness-meter, or an OpenTelemetry Collector?): ` +
              `stop it, or start on another port with HM_PORT, e.g. HM_PORT=4319 npx harness-meter start ` +
              `(then point the CLI at it with HM_API_URL=http://${host}:4319).`,
          ),
        );
      else if (e.code === 'EACCES')
        reject(
          new CliFailure(`port ${port} on ${host} needs more privileges: use HM_PORT above 1023.`),
        );
      else if (e.code === 'EADDRNOTAVAIL')
        reject(
          new CliFailure(
            `HM_HOST=${host} is not an address of this machine: use 127.0.0.1 or 0.0.0.0.`,
          ),
        );
      else reject(e);
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The routes a server answers, for the start banner. */
export function routeLines(base: string, roles: readonly KafkaRole[] | 'embedded'): string[] {
  const ingest = roles === 'embedded' || roles.includes('ingest');
  const lines = [
    ...(ingest
      ? [
          `  POST ${base}/v1/traces     OTLP/HTTP spans (protobuf or JSON, gzip ok)`,
          `  POST ${base}/v1/logs       OTLP/HTTP logs (Claude Code, Codex, Gemini CLI events)`,
        ]
      : []),
    ...(roles === 'embedded'
      ? [
          `  POST ${base}/v1/metrics    OTLP/HTTP metrics (agents' usage counters, for report metrics-check)`,
          `  POST ${base}/v1/github/webhook   GitHub pull request facts (HM_GITHUB_WEBHOOK_SECRET)`,
        ]
      : []),
    `  GET  ${base}/api/v1/reports/<name>   reports as JSON (?format=csv): ${REPORTS.map((r) => r.name).join(', ')}`,
    ...(roles === 'embedded' || roles.includes('enrich')
      ? [
          `  GET  ${base}/               the dashboard (a read key once keys exist)`,
          `  GET  ${base}/api/v1/dashboard/<view> | /api/v1/keys   the dashboard's data; API keys (admin)`,
          `  POST ${base}/api/v1/reprice | /api/v1/alerts/check | /api/v1/import/pr-facts | /api/v1/import/git-lines | /api/v1/import/incidents | /api/v1/keys`,
        ]
      : []),
    `  GET  ${base}/metrics       Prometheus metrics`,
    `  GET  ${base}/healthz       health`,
  ];
  return lines;
}

/** Runs until SIGINT/SIGTERM, then stops within the shutdown bound (exit 0), or exits 1 past it. */
async function serveUntilSignal(
  io: CliIo,
  stop: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string): void => {
      signals++;
      if (signals > 1) process.exit(130);
      io.out(`\n${sig}: stopping (finishing in-flight work)...\n`);
      const timer = setTimeout(() => {
        io.err(`did not stop within ${timeoutMs} ms (HM_SHUTDOWN_TIMEOUT_MS); exiting.\n`);
        process.exit(1);
      }, timeoutMs);
      timer.unref();
      stop().then(resolve, (e: unknown) => {
        io.err(`error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
  });
  io.out('stopped.\n');
}

async function runKafka(io: CliIo, config: Config, roles: KafkaRole[]): Promise<void> {
  if (roles.includes('ingest')) await checkPortFree(config.host, config.port);
  const { startKafkaPipeline } = await import('../kafka/run.js');
  const pipeline = await startKafkaPipeline(config, roles, createLogger(config.logLevel));
  const base = pipeline.receiver.url;
  io.out(
    `harness-meter is running stage(s) ${roles.join(' + ')} over Kafka (${config.kafka.brokers.join(',')})\n` +
      routeLines(base, roles).join('\n') +
      '\n' +
      (roles.includes('enrich')
        ? `  data: ${config.clickhouseUrl ?? config.dataDir} (database ${config.database})\n`
        : '') +
      `Press Ctrl-C to stop.\n`,
  );
  await serveUntilSignal(io, () => pipeline.stop(), config.shutdownTimeoutMs);
}

export const registerServerCommands: CommandGroup = (program, ctx) => {
  program
    .command('start')
    .description(
      'run every stage in one process: OTLP/HTTP receiver, pricing, detection, storage, API',
    )
    .addHelpText(
      'after',
      `\nListens on HM_HOST:HM_PORT (default 127.0.0.1:4318); data in HM_DATA_DIR (default ./.harness-meter).
With HM_KAFKA_BROKERS set, the stages are joined through Kafka instead.
Examples:
  npx harness-meter start
  HM_PORT=4319 HM_DATA_DIR=/var/lib/hm npx harness-meter start`,
    )
    .action(async () => {
      const config = ctx.config();
      if (config.kafka.brokers.length > 0) {
        await runKafka(ctx.io, config, ['ingest', 'enrich']);
        return;
      }
      await checkPortFree(config.host, config.port);
      const { startEmbedded } = await import('../embedded.js');
      const server = await startEmbedded(config, createLogger(config.logLevel));
      ctx.io.out(
        `harness-meter is running (embedded: every stage in this process)\n` +
          routeLines(server.receiver.url, 'embedded').join('\n') +
          '\n' +
          `  data: ${config.clickhouseUrl ?? config.dataDir} (database ${config.database})\n` +
          `Press Ctrl-C to stop.\n`,
      );
      await serveUntilSignal(ctx.io, () => server.stop(), config.shutdownTimeoutMs);
    });

  program
    .command('run')
    .description('run one stage over Kafka (HM_KAFKA_BROKERS), to scale it out')
    .addArgument(new Argument('<stage>', 'ingest or enrich').choices(['ingest', 'enrich']))
    .addHelpText(
      'after',
      `\nExamples:\n  HM_KAFKA_BROKERS=localhost:9092 npx harness-meter run ingest`,
    )
    .action(async (stage: KafkaRole) => {
      const config = ctx.config();
      if (config.kafka.brokers.length === 0)
        throw new UsageError(
          'harness-meter run needs HM_KAFKA_BROKERS (the stages talk through Kafka), e.g. HM_KAFKA_BROKERS=localhost:9092; without Kafka use `harness-meter start`.',
          'run',
        );
      await runKafka(ctx.io, config, [stage]);
    });

  program
    .command('migrate')
    .description('apply (or revert) the schema migrations without starting')
    .addOption(
      new Option('--down <version>', 'revert down to this schema version').argParser(
        nonNegativeInt('--down'),
      ),
    )
    .addHelpText(
      'after',
      `\nExamples:\n  npx harness-meter migrate\n  npx harness-meter migrate --down 5`,
    )
    .action(async (flags: { down?: number }) => {
      const config = ctx.config();
      const { migrateDown, migrateUp, openStore } = await import('@harness-meter/queries');
      const { storeOptions } = await import('../config.js');
      const client = await openStore(storeOptions(config));
      try {
        const result =
          flags.down === undefined
            ? await migrateUp(client, config.database)
            : await migrateDown(client, config.database, flags.down);
        ctx.io.out(
          `schema at version ${result.current}; ${result.applied.length === 0 ? 'nothing to do' : `${flags.down === undefined ? 'applied' : 'reverted'} ${result.applied.map((m) => `${m.version}_${m.name}`).join(', ')}`}\n`,
        );
      } finally {
        await client.close();
      }
    });
};

/** A commander argument parser for a whole number ≥ 0; a bad value is a usage error. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value.replace(/^#/, ''));
    if (!/^#?\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
      throw new UsageError(
        `${flag} ${JSON.stringify(value)}: give a whole number, e.g. ${flag} 5.`,
      );
    return n;
  };
}
