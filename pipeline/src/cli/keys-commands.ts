/** `keys create|list|revoke`: API keys and their roles (README, "Security"). */
import { Option } from 'commander';
import type { KeysFlags } from '../auth/cli.js';
import type { CliContext, CommandGroup } from './common.js';

export const registerKeysCommands: CommandGroup = (program, ctx: CliContext) => {
  const keys = program
    .command('keys')
    .description('API keys: who may send spans, read reports or administer (README, "Security")')
    .addHelpText(
      'after',
      `\nThrough a running server's admin routes (send HM_API_KEY once keys exist), or on the data folder when none answers.`,
    );
  keys
    .command('create')
    .description('create a key; it is printed once, as the last line of stdout')
    .addOption(
      new Option('--role <role>', 'what the key may do')
        .choices(['ingest', 'read', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--team <team>', 'ingest keys: stamp this team on every span the key sends')
    .option('--developer <developer>', 'ingest keys: stamp this developer on every span')
    .option('--name <name>', 'a label to recognise the key by in `keys list`')
    .addHelpText(
      'after',
      `\nExamples:\n  harness-meter keys create --role admin --name ops\n  harness-meter keys create --role ingest --team payments --name payments-agents`,
    )
    .action(async (flags: KeysFlags) => {
      ctx.io.out(
        await (
          await import('../auth/cli.js')
        ).runKeysCommand(ctx.config(), 'create', undefined, flags),
      );
    });
  keys
    .command('list')
    .description('list keys (id, role, bound identity, spans written; never the secret)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']))
    .option('--json', 'shorthand for --format json')
    .action(async (flags: { json?: boolean; format?: string }) => {
      const json = flags.json === true || flags.format === 'json';
      ctx.io.out(
        await (
          await import('../auth/cli.js')
        ).runKeysCommand(ctx.config(), 'list', undefined, json ? { format: 'json' } : {}),
      );
    });
  keys
    .command('revoke')
    .description('revoke a key by its id (keys list shows ids)')
    .argument('<id>', 'the key id')
    .action(async (id: string) => {
      ctx.io.out(
        await (await import('../auth/cli.js')).runKeysCommand(ctx.config(), 'revoke', id, {}),
      );
    });
};
