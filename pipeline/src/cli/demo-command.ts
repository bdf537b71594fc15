/** `demo`: example agent sessions played against a running server. */
import { runDemo } from '../demo/harness.js';
import { injectSpike } from '../demo/spike.js';
import { findServer } from '../report/remote.js';
import { CliFailure, type CommandGroup } from './common.js';

export const registerDemoCommand: CommandGroup = (program, ctx) => {
  program
    .command('demo')
    .description('play example agent sessions against a running server')
    .option('--endpoint <url>', 'OTLP/HTTP traces endpoint (default HM_API_URL/v1/traces)')
    .option('--spike', 'a spend spike on 4 weeks of history, to see alerts')
    .addHelpText(
      'after',
      `\nExamples:\n  npx harness-meter demo\n  npx harness-meter demo --spike && npx harness-meter report alerts`,
    )
    .action(async (flags: { endpoint?: string; spike?: boolean }) => {
      const config = ctx.config();
      const endpoint = flags.endpoint ?? `${config.apiUrl}/v1/traces`;
      if (flags.endpoint === undefined && !(await findServer(config.apiUrl)))
        throw new CliFailure(
          `no harness-meter server answers at ${config.apiUrl}: start one first (npm start), or pass --endpoint URL.`,
        );
      if (flags.spike) {
        const n = await injectSpike(endpoint);
        ctx.io.out(
          `demo --spike: ${n} spans sent to ${endpoint}: erin's usual $0.90 at this hour over 4 weeks, then $10.80 in 4 minutes\n` +
            `the pipeline raises developer-spike and runaway-session within seconds: npx harness-meter report alerts\n`,
        );
        return;
      }
      const summary = await runDemo({ endpoint });
      ctx.io.out(
        `demo: ${summary.sessions} sessions, ${summary.llmCalls} LLM calls, ${summary.toolCalls} tool calls sent to ${endpoint}\n` +
          `now try: npx harness-meter report cost-per-pr\n`,
      );
    });
};
