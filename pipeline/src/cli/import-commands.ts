/**
 * `import prs FILE`, `import git PATH` and `import incidents FILE`: PR facts, line fates and
 * defects without a webhook; `import claude-code|codex|gemini`: the transcripts agents write.
 */
import type { PrFacts } from '../github/index.js';
import { findServer, postAction } from '../report/remote.js';
import type { ImportProgressSink } from '../transcripts/cli.js';
import type { CliContext, CliIo, CommandGroup } from './common.js';
import { createProgress, type Progress } from './progress.js';
import { nonNegativeInt } from './server-commands.js';

/** Stores PR facts through a running server, or in the data folder when none answers. */
async function storeFacts(ctx: CliContext, kind: string, facts: PrFacts): Promise<void> {
  const config = ctx.config();
  const server = await findServer(config.apiUrl);
  if (server) {
    await postAction(config.apiUrl, 'import/pr-facts', {}, facts, config.apiKey);
  } else {
    // Imported here, not at the top: `--help` must not load the store client (cli/program.ts).
    const { insertPrFacts, migrateUp, openStore } = await import('@harness-meter/queries');
    const { storeOptions } = await import('../config.js');
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
    .description(
      'store PR facts, git line fates and incidents (no webhook needed), or import agent transcripts',
    );
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
      const facts = (await import('../github/index.js')).readPrsFile(
        file,
        flags.pr === undefined ? {} : { pr: flags.pr },
      );
      await storeFacts(ctx, 'prs', facts);
    });
  imp
    .command('git')
    .description("store a local repository's commits, with Agent-Session trailers")
    .argument('<path>', 'a git working copy')
    .option('--repo <owner/name>', 'repository name, when the remote does not say it')
    .option('--base <branch>', 'only commits not on this branch')
    .option('--full', 'walk every commit again, not only those since the last import')
    .addHelpText(
      'after',
      `\nAlso follows the lines each merged PR added (churn, survival, defects; README, "Code churn, survival and defect escape").\nExamples:\n  harness-meter import git . --base main`,
    )
    .action(async (path: string, flags: { repo?: string; base?: string; full?: boolean }) => {
      const facts: PrFacts = {
        events: [],
        commits: (await import('../github/index.js')).readGitHistory(path, {
          ...(flags.repo === undefined ? {} : { repo: flags.repo }),
          ...(flags.base === undefined ? {} : { base: flags.base }),
        }),
      };
      await storeFacts(ctx, 'git', facts);
      ctx.io.out(
        await (
          await import('../github/git-cli.js')
        ).importGitLines(ctx.config(), path, {
          ...(flags.repo === undefined ? {} : { repo: flags.repo }),
          ...(flags.base === undefined ? {} : { base: flags.base }),
          full: flags.full === true,
        }),
      );
    });
  imp
    .command('incidents')
    .description('store incidents (CSV or JSON: id, opened_at, pr or commit) as defects of PRs')
    .argument('<file>', 'a .csv or .json file')
    .option('--repo <owner/name>', 'repository of PR numbers that do not name one')
    .addHelpText(
      'after',
      `\nExamples:\n  harness-meter import incidents incidents.csv --repo acme/api`,
    )
    .action(async (file: string, flags: { repo?: string }) => {
      ctx.io.out(
        await (
          await import('../github/git-cli.js')
        ).importIncidents(ctx.config(), file, flags.repo === undefined ? {} : { repo: flags.repo }),
      );
    });
  for (const [kind, where] of [
    ['claude-code', '~/.claude/projects (CLAUDE_CONFIG_DIR)'],
    ['codex', '~/.codex/sessions (CODEX_HOME)'],
    ['gemini', "Gemini CLI's session logs (GEMINI_DATA_DIR)"],
  ] as const)
    imp
      .command(kind)
      .description(`import the transcripts ${kind} already writes (default ${where})`)
      .argument('[dirs...]', "folders or files (default: the agent's own folder)")
      .option(
        '--developer <developer>',
        'who the sessions belong to (default: git config user.email)',
      )
      .option('--watch', 'keep following new lines as the agent writes them')
      .option('--settle <seconds>', 'hold back files written in the last N seconds (default 60)')
      .option('--capture-content', 'store prompt and tool text too (redacted); off by default')
      .addHelpText(
        'after',
        `\nImports only what is new since the last run; the same data is never counted twice (README, "Try it on your own history").\nExamples:\n  harness-meter import ${kind}\n  harness-meter import ${kind} --watch`,
      )
      .action(
        async (
          dirs: string[],
          flags: { developer?: string; watch?: boolean; settle?: string; captureContent?: boolean },
        ) => {
          await (
            await import('../transcripts/cli.js')
          ).runTranscriptImport(
            ctx.config(),
            {
              kind,
              paths: dirs,
              developer: flags.developer,
              watch: flags.watch,
              captureContent: flags.captureContent,
              settleSeconds: flags.settle,
            },
            (t) => ctx.io.out(t),
            ctx.io.env,
            importProgress(ctx.io, kind),
          );
        },
      );
};

/** Files done of those found, and lines read: a bar on a terminal, a line every few seconds otherwise. */
export function importProgress(
  io: CliIo,
  kind: string,
  stderrIsTty?: boolean,
  now?: () => number,
): ImportProgressSink {
  let bar: Progress | undefined;
  return {
    update(p) {
      // Created at the first news, once the number of files is known.
      bar ??= createProgress(io, `import ${kind}`, 'files', p.filesTotal, stderrIsTty, now);
      bar.update(p.filesDone, p.filesTotal, `${p.lines.toLocaleString('en-US')} lines`);
    },
    stop: () => bar?.stop(),
  };
}
