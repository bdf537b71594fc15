/**
 * The commander program around a list of command groups: the root's help, version and hooks, and
 * the per-command settings every command shares. program.ts builds it with every group; the CLI
 * builds it with the report group alone for `harness-meter report …`, so the common path loads
 * no other command module (issue 17: a report through the CLI within 2x of curl).
 */
import { Command } from 'commander';
import { commandPath, prepareConfig, type CliContext, type CommandGroup } from './common.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  runtime failure (no server and no data, a refused request, a locked data folder)
  2  usage error (unknown command or flag, missing or malformed argument)

Configuration comes from the environment (HM_PORT, HM_DATA_DIR, HM_API_URL, ...): README, "Configuration".
Run \`harness-meter help <command>\` for a command's flags and examples.`;

/** The CLI with these command groups as a commander program (no side effects until parsed). */
export function createProgramOf(
  ctx: CliContext,
  version: string,
  groups: readonly CommandGroup[],
): Command {
  const program = new Command('harness-meter')
    .description('the cost and waste of AI coding agents, from OpenTelemetry spans to reports')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP)
    // Before any command runs (and only then): the configuration module; see common.ts.
    .hook('preAction', prepareConfig);
  for (const register of groups) register(program, ctx);
  // Every command: unknown flags and stray arguments are errors, not ignored; output through io.
  const configure = (cmd: Command): void => {
    const path = commandPath(cmd);
    cmd
      .allowExcessArguments(false)
      .showHelpAfterError(`(see: harness-meter help${path ? ` ${path}` : ''})`)
      .exitOverride()
      .configureOutput({
        writeOut: (s) => ctx.io.out(s),
        writeErr: (s) => ctx.io.err(s),
      });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}
