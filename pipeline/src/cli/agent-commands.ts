/** `stamp` and `alerts check`: commands run from agents' hooks and from schedulers. */
import { Option } from 'commander';
import { authHeaders } from '../report/remote.js';
import { CliFailure, type CommandGroup } from './common.js';
import { timeFlag } from './prices-commands.js';

export const registerAgentCommands: CommandGroup = (program, ctx) => {
  program
    .command('stamp')
    .description("stamp the session's repository, branch, commit and PR (from git) on its events")
    .option('--session <id>', 'the agent session (default: session_id of the hook JSON on stdin)')
    .option('--cwd <path>', "the session's folder (default: cwd of the hook JSON, or this folder)")
    .option('--pr <number>', 'the PR (default: HM_PR, or gh pr view)')
    .option('--team <team>', "the developer's team")
    .addHelpText(
      'after',
      `\nRun it from the agent's hooks, which pass {"session_id", "cwd"} on stdin.\nExamples:\n  echo '{"session_id":"s1","cwd":"."}' | harness-meter stamp --pr 42`,
    )
    .action(async (flags: { session?: string; cwd?: string; pr?: string; team?: string }) => {
      const config = ctx.config();
      const { gatherStamp, readStdinIfPiped, stampRequest } = await import('../stamp-cli.js');
      const facts = gatherStamp({ ...flags, stdin: readStdinIfPiped() });
      const res = await fetch(`${config.apiUrl}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(config.apiKey) },
        body: stampRequest(facts),
        signal: AbortSignal.timeout(5000),
      }).catch((e: unknown) => {
        throw new CliFailure(
          `no harness-meter server answers at ${config.apiUrl} (${e instanceof Error ? e.message : String(e)}): start one with \`npm start\`, or set HM_API_URL.`,
        );
      });
      if (!res.ok)
        throw new CliFailure(
          `the server refused the stamp: HTTP ${res.status} ${await res.text()}`,
        );
      ctx.io.out(
        `stamped session ${facts.session}: ${facts.repositoryUrl || '(no repository)'} ${facts.branch || '(no branch)'}${facts.pr !== undefined ? ` PR #${facts.pr}` : ''}\n`,
      );
    });

  const alerts = program.command('alerts').description('alert rules over spend and waste');
  alerts
    .command('check')
    .description('evaluate the alert rules now (or at TIME) and deliver what changed')
    .option('--at <time>', 'evaluate as of this time (default now)')
    .option('--json', 'print the result as JSON')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']))
    .addHelpText(
      'after',
      `\nExamples:\n  harness-meter alerts check\n  harness-meter alerts check --json`,
    )
    .action(async (flags: { at?: string; json?: boolean; format?: string }) => {
      const at = await timeFlag(flags.at, '--at', 'alerts check');
      const { formatAlertsCheck, runAlertsCheck } = await import('../alerts/cli.js');
      const { result, via } = await runAlertsCheck(ctx.config(), at?.toISOString());
      ctx.io.out(
        flags.json ? JSON.stringify(result, null, 2) + '\n' : formatAlertsCheck(result, via),
      );
    });
};
