/**
 * The command registry. A command group is one module exporting a `register(program, ctx)`
 * function; adding a group is one import and one entry in COMMAND_GROUPS.
 *
 * Built on commander: it is the most used Node CLI library, has no dependencies, is typed, and
 * gives per-command help, `help [command]`, `--version`, "did you mean" for commands and flags,
 * and unknown-flag errors per command out of the box (citty has no per-command unknown-flag
 * errors; yargs is larger and its strict mode is global).
 */
import { Command } from 'commander';
import { registerAgentCommands } from './agent-commands.js';
import { commandPath, prepareConfig, type CliContext, type CommandGroup } from './common.js';
import { registerDemoCommand } from './demo-command.js';
import { registerImportCommands } from './import-commands.js';
import { registerKeysCommands } from './keys-commands.js';
import { registerPricesCommands } from './prices-commands.js';
import { registerReportCommands } from './report-commands.js';
import { registerServerCommands } from './server-commands.js';

/** Every command group, in the order `harness-meter help` lists them. */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  registerServerCommands,
  registerDemoCommand,
  registerReportCommands,
  registerPricesCommands,
  registerImportCommands,
  registerAgentCommands,
  registerKeysCommands,
];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  runtime failure (no server and no data, a refused request, a locked data folder)
  2  usage error (unknown command or flag, missing or malformed argument)

Configuration comes from the environment (HM_PORT, HM_DATA_DIR, HM_API_URL, ...): README, "Configuration".
Run \`harness-meter help <command>\` for a command's flags and examples.`;

/** The whole CLI as a commander program (no side effects until parsed). */
export function createProgram(ctx: CliContext, version: string): Command {
  const program = new Command('harness-meter')
    .description('the cost and waste of AI coding agents, from OpenTelemetry spans to reports')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP)
    // Before any command runs (and only then): the configuration module; see common.ts.
    .hook('preAction', prepareConfig);
  for (const register of COMMAND_GROUPS) register(program, ctx);
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
