/**
 * The command registry. A command group is one module exporting a `register(program, ctx)`
 * function; adding a group is one import and one entry in COMMAND_GROUPS.
 *
 * Built on commander: it is the most used Node CLI library, has no dependencies, is typed, and
 * gives per-command help, `help [command]`, `--version`, "did you mean" for commands and flags,
 * and unknown-flag errors per command out of the box (citty has no per-command unknown-flag
 * errors; yargs is larger and its strict mode is global).
 */
import type { Command } from 'commander';
import { registerAgentCommands } from './agent-commands.js';
import type { CliContext, CommandGroup } from './common.js';
import { registerDemoCommand } from './demo-command.js';
import { registerImportCommands } from './import-commands.js';
import { registerKeysCommands } from './keys-commands.js';
import { registerPricesCommands } from './prices-commands.js';
import { createProgramOf } from './program-shell.js';
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

export { EXIT_CODES_HELP } from './program-shell.js';

/** The whole CLI as a commander program (no side effects until parsed). */
export function createProgram(ctx: CliContext, version: string): Command {
  return createProgramOf(ctx, version, COMMAND_GROUPS);
}
