/** `demo`: example agent sessions played against a running server, and their removal. */
import type { DemoResetResult } from '../demo/reset.js';
import { authHeaders, findServer, postAction } from '../report/remote.js';
import { createProgress } from './progress.js';
import {
  CliFailure,
  localStoreExists,
  noServerNoData,
  UsageError,
  type CommandGroup,
} from './common.js';

export const registerDemoCommand: CommandGroup = (program, ctx) => {
  program
    .command('demo')
    .description('play example agent sessions against a running server (or remove them: --reset)')
    .option('--endpoint <url>', 'OTLP/HTTP traces endpoint (default HM_API_URL/v1/traces)')
    .option('--spike', 'a spend spike on 4 weeks of history, to see alerts')
    .option('--reset', "remove the demo's sessions (spans, rollups, findings) from the store")
    .addHelpText(
      'after',
      `
The demo's sessions have fixed ids: running it again stores nothing new (the reports do not change).
Each export's answer is checked: a wrong endpoint or a refusal fails with the server's reason (exit 1).
Examples:
  npx harness-meter demo
  npx harness-meter demo --spike && npx harness-meter report alerts
  npx harness-meter demo --reset`,
    )
    .action(async (flags: { endpoint?: string; spike?: boolean; reset?: boolean }) => {
      const config = ctx.config();
      if (flags.reset) {
        if (flags.spike || flags.endpoint !== undefined)
          throw new UsageError('--reset takes no other flag.', 'demo');
        let r: DemoResetResult;
        if (await findServer(config.apiUrl)) {
          r = await postAction<DemoResetResult>(
            config.apiUrl,
            'demo/reset',
            {},
            undefined,
            config.apiKey,
          );
        } else {
          if (!localStoreExists(config)) throw noServerNoData(config);
          const { migrateUp, openStore } = await import('@harness-meter/queries');
          const { storeOptions } = await import('../config.js');
          const { resetDemo } = await import('../demo/reset.js');
          const client = await openStore(storeOptions(config));
          try {
            await migrateUp(client, config.database);
            r = await resetDemo(client, config.database);
          } finally {
            await client.close();
          }
        }
        ctx.io.out(
          `demo --reset: ${r.spans} demo span(s) removed, with their rows in ${r.tables.slice(1).join(', ')}\n`,
        );
        return;
      }
      const endpoint = flags.endpoint ?? `${config.apiUrl}/v1/traces`;
      if (flags.endpoint === undefined && !(await findServer(config.apiUrl)))
        throw new CliFailure(
          `no harness-meter server answers at ${config.apiUrl}: start one first (npm start), or pass --endpoint URL.`,
        );
      if (flags.spike) {
        const bar = createProgress(ctx.io, 'demo --spike', 'spans', 20);
        const { injectSpike } = await import('../demo/spike.js');
        let n: number;
        try {
          n = await injectSpike(
            endpoint,
            Date.now(),
            (done, total) => bar.update(done, total),
            authHeaders(config.apiKey),
          );
        } finally {
          bar.stop();
        }
        ctx.io.out(
          `demo --spike: ${n} spans accepted by ${endpoint}: erin's usual $0.90 at this hour over 4 weeks, then $10.80 in 4 minutes\n` +
            `the pipeline raises developer-spike and runaway-session within seconds: npx harness-meter report alerts\n` +
            `(fixed ids: running it again stores nothing new; demo --reset removes it)\n`,
        );
        return;
      }
      const bar = createProgress(ctx.io, 'demo', 'calls', 37);
      const { runDemo } = await import('../demo/harness.js');
      let summary: Awaited<ReturnType<typeof runDemo>>;
      try {
        summary = await runDemo({
          endpoint,
          headers: authHeaders(config.apiKey),
          onStep: (done, total) => bar.update(done, total),
        });
      } finally {
        bar.stop();
      }
      ctx.io.out(
        `demo: ${summary.sessions} sessions, ${summary.llmCalls} LLM calls, ${summary.toolCalls} tool calls accepted by ${endpoint}\n` +
          `(fixed ids: running it again stores nothing new; demo --reset removes them)\n` +
          `now try: npx harness-meter report cost-per-pr\n`,
      );
    });
};
