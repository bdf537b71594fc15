/**
 * The CLI's side of `import git` (line walk) and `import incidents`: options in, a summary line
 * out. With a server running the rows go to it (it holds the store); otherwise the store is opened.
 */
import {
  GIT_INSERT_BATCH_ROWS,
  lastGitWalk,
  migrateUp,
  openStore,
  type ClickHouseClient,
  type GitWalkRow,
} from '@harness-meter/queries';
import { storeOptions, type Config } from '../config.js';
import { findServer, postAction } from '../report/remote.js';
import { readIncidentsFile } from './defects.js';
import { storeGitLines, storeIncidents, type GitLinesBatch } from './git-import.js';
import { walkGitLines, type GitWalkResult } from './git-walk.js';
import { resolveRepo } from './import.js';

async function withStore<T>(config: Config, run: (c: ClickHouseClient) => Promise<T>): Promise<T> {
  const client = await openStore(storeOptions(config));
  try {
    await migrateUp(client, config.database);
    return await run(client);
  } finally {
    await client.close();
  }
}

/** Splits a walk into parts a server accepts; the checkpoint goes with the last. */
export function gitLinesParts(r: GitWalkResult): GitLinesBatch[] {
  const parts: GitLinesBatch[] = [];
  const n = Math.max(r.lineFates.length, r.defects.length);
  for (let i = 0; i === 0 || i < n; i += GIT_INSERT_BATCH_ROWS)
    parts.push({
      lineFates: r.lineFates.slice(i, i + GIT_INSERT_BATCH_ROWS),
      defects: r.defects.slice(i, i + GIT_INSERT_BATCH_ROWS),
      walk: null,
    });
  parts[parts.length - 1]!.walk = r.walk;
  return parts;
}

/**
 * `import git PATH` (line fates and defects): walks only the commits since the last import of the
 * same repository and base (plus the 30 days before them); `full` walks everything.
 */
export async function importGitLines(
  config: Config,
  path: string,
  options: { repo?: string; base?: string; full?: boolean; now?: Date },
): Promise<string> {
  const { repo, base } = resolveRepo(path, options);
  // The commits are stored already; without a default branch there is no line to follow.
  if (base === undefined)
    return `import git: no main or master branch in ${path}, so no lines were followed: pass --base BRANCH (the branch PRs merge into).\n`;
  const server = await findServer(config.apiUrl);
  let last: GitWalkRow | undefined;
  if (!options.full)
    last = server
      ? ((
          await postAction<{ last: GitWalkRow | null }>(
            config.apiUrl,
            'import/git-walk-state',
            {},
            { repo, base },
            config.apiKey,
          )
        ).last ?? undefined)
      : await withStore(config, (c) => lastGitWalk(c, config.database, repo, base));
  const result = await walkGitLines(path, {
    repo,
    base,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(last === undefined
      ? {}
      : {
          last: {
            head_sha: last.head_sha,
            head_at: new Date(`${last.head_at.replace(' ', 'T')}Z`),
          },
        }),
  });
  if (server)
    for (const part of gitLinesParts(result))
      await postAction(config.apiUrl, 'import/git-lines', {}, part, config.apiKey);
  else await withStore(config, (c) => storeGitLines(c, config.database, result));
  const lines = result.lineFates.reduce((n, r) => n + r.lines_added, 0);
  const prs = new Set(result.lineFates.filter((r) => r.pr !== 0).map((r) => r.pr)).size;
  return (
    `import git: walked ${result.stats.firstParent} ${result.base} commit(s)` +
    `${result.stats.incremental ? ' (since the last import, with the 30 days before it)' : ''}: ` +
    `${lines} line(s) added by ${prs} PR(s) and direct pushes followed (${result.stats.blamedPrs} PR(s) split by blame), ` +
    `${result.defects.length} defect link(s)\n`
  );
}

/** `import incidents FILE [--repo O/R]`: CSV or JSON incidents, each naming a PR or a commit. */
export async function importIncidents(
  config: Config,
  file: string,
  options: { repo?: string },
): Promise<string> {
  const incidents = readIncidentsFile(file, options.repo ?? '');
  const server = await findServer(config.apiUrl);
  let stored: number;
  let unresolved: string[];
  if (server) {
    const r = await postAction<{ stored: number; unresolved: string[] }>(
      config.apiUrl,
      'import/incidents',
      {},
      { incidents: incidents.map((i) => ({ ...i, opened_at: i.opened_at.toISOString() })) },
      config.apiKey,
    );
    stored = r.stored;
    unresolved = r.unresolved;
  } else {
    const r = await withStore(config, (c) => storeIncidents(c, config.database, incidents));
    stored = r.stored;
    unresolved = r.unresolved.map((u) => u.id);
  }
  return (
    `import incidents: ${incidents.length} incident(s), ${stored} linked to a PR` +
    (unresolved.length === 0
      ? ''
      : `; ${unresolved.length} name a commit no imported PR brought (run import git first): ${unresolved.join(', ')}`) +
    '\n'
  );
}
