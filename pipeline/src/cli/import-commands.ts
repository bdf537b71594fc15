/** `import prs FILE` and `import git PATH`: PR facts without a webhook. */
import { insertPrFacts, migrateUp, openStore } from '@harness-meter/queries';
import { storeOptions } from '../config.js';
import { readGitHistory, readPrsFile, type PrFacts } from '../github/index.js';
import { findServer, postAction } from '../report/remote.js';
import type { CliContext, CommandGroup } from './common.js';
import { nonNegativeInt } from './server-commands.js';

/** Stores PR facts through a running server, or in the data folder when none answers. */
async function storeFacts(ctx: CliContext, kind: string, facts: PrFacts): Promise<void> {
  const config = ctx.config();
  const server = await findServer(config.apiUrl);
  if (server) {
    await postAction(config.apiUrl, 'import/pr-facts', {}, facts);
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
  ctx.io.out(
    `import ${kind}: ${facts.events.length} PR event(s), ${facts.commits.length} commit(s)` +
      (kind === 'git' ? ` (${sessions} agent session(s) named by Agent-Session trailers)` : '') +
      ` stored in ${config.database}${server ? ` by the server at ${config.apiUrl}` : ''}\n`,
  );
}

export const registerImportCommands: CommandGroup = (program, ctx) => {
  const imp = program
    .command('import')
    .description('store PR facts from files or git history (no webhook needed)');
  imp
    .command('prs')
    .description('store PR facts from GitHub REST JSON (gh api …: pulls, reviews, commits)')
    .argument('<file>', 'JSON file as `gh api` prints it')
    .option('--pr <number>', 'the PR the reviews/commits file belongs to', nonNegativeInt('--pr'))
    .addHelpText(
      'after',
      `\nExamples:\n  gh api repos/acme/api/pulls?state=all > prs.json && harness-meter import prs prs.json\n  gh api repos/acme/api/pulls/42/reviews > r.json && harness-meter import prs r.json --pr 42`,
    )
    .action(async (file: string, flags: { pr?: number }) => {
      const facts = readPrsFile(file, flags.pr === undefined ? {} : { pr: flags.pr });
      await storeFacts(ctx, 'prs', facts);
    });
  imp
    .command('git')
    .description("store a local repository's commits, with Agent-Session trailers")
    .argument('<path>', 'a git working copy')
    .option('--repo <owner/name>', 'repository name, when the remote does not say it')
    .option('--base <branch>', 'only commits not on this branch')
    .addHelpText('after', `\nExamples:\n  harness-meter import git . --base main`)
    .action(async (path: string, flags: { repo?: string; base?: string }) => {
      const facts: PrFacts = {
        events: [],
        commits: readGitHistory(path, {
          ...(flags.repo === undefined ? {} : { repo: flags.repo }),
          ...(flags.base === undefined ? {} : { base: flags.base }),
        }),
      };
      await storeFacts(ctx, 'git', facts);
    });
};
