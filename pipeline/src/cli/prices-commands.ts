/** `prices show` and `reprice`: how a model is priced, and recomputing stored costs. */
import { createLogger } from '../logger.js';
import { findServer, postAction } from '../report/remote.js';
import type { RepriceSummary } from '../reprice/index.js';
import { createProgress } from './progress.js';
import { localStoreExists, noServerNoData, UsageError, type CommandGroup } from './common.js';

/**
 * A time flag parsed at once, so a bad value is a usage error (exit 2) naming the command. Async:
 * the parser is loaded when a command runs, not for `--help` (cli/program.ts).
 */
export async function timeFlag(
  value: string | undefined,
  flag: string,
  command: string,
): Promise<Date | undefined> {
  if (value === undefined) return undefined;
  const { parseTime } = await import('../report/params.js');
  try {
    return parseTime(value, flag);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e), command);
  }
}

export const registerPricesCommands: CommandGroup = (program, ctx) => {
  const prices = program.command('prices').description('how model names resolve to prices');
  prices
    .command('show')
    .description('how a model name resolves, the price row in force, its source')
    .argument('<model>', 'model name as the producer sends it, e.g. claude-sonnet-4-5')
    .option('--provider <provider>', 'provider, when the name is ambiguous (anthropic, openai, …)')
    .option('--at <time>', 'the price in force at this time (default now)')
    .addHelpText(
      'after',
      `\nExamples:\n  harness-meter prices show claude-sonnet-4-5\n  harness-meter prices show gpt-4o --provider openai --at 20260101`,
    )
    .action(async (model: string, flags: { provider?: string; at?: string }) => {
      const at = (await timeFlag(flags.at, '--at', 'prices show')) ?? new Date();
      const config = ctx.config();
      const { describePrice, loadPriceBook } = await import('../price/index.js');
      ctx.io.out(describePrice(loadPriceBook(config.pricesFile), flags.provider ?? '', model, at));
    });

  program
    .command('reprice')
    .description('recompute stored costs after the price data or HM_PRICES_FILE changed')
    .option('-s, --since <time>', 'only calls from this time on (YYYYMMDD, ISO, or 7d back)')
    .option('--model <model>', 'only calls of this model')
    .addHelpText(
      'after',
      `\nA running server (HM_API_URL) reloads its prices and re-prices; otherwise the data folder is opened.\nExamples:\n  harness-meter reprice\n  harness-meter reprice --since 7d --model acme-coder-70b`,
    )
    .action(async (flags: { since?: string; model?: string }) => {
      const since = await timeFlag(flags.since, '--since', 'reprice');
      const model = flags.model;
      const config = ctx.config();
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
        if (!localStoreExists(config)) throw noServerNoData(config);
        const { migrateUp, openStore } = await import('@harness-meter/queries');
        const { storeOptions } = await import('../config.js');
        const { loadPriceBook } = await import('../price/index.js');
        const { REPRICE_DEFAULTS, repriceStoredCosts, summarize } =
          await import('../reprice/index.js');
        const book = loadPriceBook(config.pricesFile);
        const client = await openStore(storeOptions(config));
        try {
          await migrateUp(client, config.database);
          // The number of calls is learnt page by page: the bar's total grows with it.
          const bar = createProgress(ctx.io, 'reprice', 'LLM calls', REPRICE_DEFAULTS.batchSize);
          let result: Awaited<ReturnType<typeof repriceStoredCosts>>;
          try {
            result = await repriceStoredCosts(client, book, {
              db: config.database,
              ...(since === undefined ? {} : { since }),
              ...(model === undefined ? {} : { model }),
              logger: createLogger(config.logLevel),
              onPage: (p) => bar.update(p.scanned, p.scanned + REPRICE_DEFAULTS.batchSize),
            });
          } finally {
            bar.stop();
          }
          r = summarize(result, since, model);
        } finally {
          await client.close();
        }
      }
      const { formatUsd } = await import('@harness-meter/queries');
      const delta = BigInt(r.deltaNanos);
      const sign = delta < 0n ? '-' : '+';
      const abs = delta < 0n ? -delta : delta;
      ctx.io.out(
        `reprice: ${r.scanned} LLM call(s) checked${since ? ` since ${since.toISOString()}` : ''}${model ? ` for model ${model}` : ''}` +
          ` with ${config.pricesFile ? `the bundled table + ${config.pricesFile}` : 'the bundled table'}` +
          `${server ? ` (by the server at ${config.apiUrl}, which now prices new calls the same way)` : ''}\n` +
          `  changed:      ${r.changed} (${r.nowPriced} newly priced, ${r.nowUnpriced} now unpriced)\n` +
          `  total delta:  ${sign}$${formatUsd(abs, 9)} (${r.deltaNanos} nano-USD)\n` +
          (r.changed === 0 ? '  nothing to change: stored costs match the current prices.\n' : ''),
      );
    });
};
