import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { PrCommitRow } from '@harness-meter/queries';
import { toClickHouseTime } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { repoKey, restFacts, sessionTrailer, type ImportOptions, type PrFacts } from './events.js';

/** Bound on the git output read by `import git` (history of large repositories fits). */
export const GIT_MAX_BUFFER = 512 * 1024 * 1024;

/** A file the user named on the command line, as text; unreadable is a 400 naming the file. */
export function readInputFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineError(
      'BAD_REQUEST',
      `Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}.`,
    );
  }
}

/**
 * Reads a file of JSON that GitHub's REST API returned (`gh api …`): pulls, reviews or commits.
 * @example readPrsFile('pulls.json') // then insertPrFacts(client, db, facts)
 */
export function readPrsFile(file: string, options: ImportOptions = {}): PrFacts {
  const text = readInputFile(file);
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch {
    throw new PipelineError(
      'BAD_REQUEST',
      `${file} is not JSON: write it with gh api … > ${file} (see the README, "PR linkage and the harness metrics", Backfill from files).`,
    );
  }
  return restFacts(data, options);
}

/** Runs git in `path`; a failure is a BAD_REQUEST naming git's own message. */
export function git(path: string, args: string[]): string {
  try {
    return execFileSync('git', ['-C', path, ...args], {
      encoding: 'utf8',
      maxBuffer: GIT_MAX_BUFFER,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new PipelineError(
      'BAD_REQUEST',
      `git ${args[0] ?? ''} failed in ${path}: ${typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export function tryGit(path: string, args: string[]): string | undefined {
  try {
    return git(path, args).trim();
  } catch {
    return undefined;
  }
}

/** The `owner/name` of a local clone (from --repo or its origin remote) and its base branch. */
export function resolveRepo(
  path: string,
  options: { repo?: string; base?: string },
): { repo: string; base: string | undefined } {
  const repo = repoKey(options.repo ?? tryGit(path, ['remote', 'get-url', 'origin']) ?? '');
  if (repo === '' || !repo.includes('/'))
    throw new PipelineError(
      'BAD_REQUEST',
      `Cannot tell which GitHub repository ${path} is (no origin remote): pass --repo owner/name.`,
    );
  const base =
    options.base ??
    ['main', 'master'].find(
      (b) => tryGit(path, ['rev-parse', '--verify', '--quiet', `refs/heads/${b}`]) !== undefined,
    );
  return { repo, base };
}

/** The PR number GitHub's merge subjects give ("Merge pull request #N from …", squash "… (#N)"), or 0. */
export function prOfSubject(subject: string): { pr: number; merge: boolean } {
  const merge = /^Merge pull request #(\d+) from /.exec(subject);
  const squash = /\(#(\d+)\)\s*$/.exec(subject);
  return { pr: Number(merge?.[1] ?? squash?.[1] ?? 0), merge: merge !== null };
}

/**
 * Commits of a local repository: every commit reachable from any ref, with the session named by
 * its `Agent-Session:` trailer, the local branch it is on (beside the base branch), and the PR
 * number when GitHub's merge subjects say it ("Merge pull request #N from …", squash "… (#N)").
 */
export function readGitHistory(
  path: string,
  options: { repo?: string; base?: string } = {},
): PrCommitRow[] {
  const { repo, base } = resolveRepo(path, options);
  const log = git(path, ['log', '--all', '--format=%H%x1f%P%x1f%an%x1f%cI%x1f%s%x1f%B%x1e']);
  const branchOf = new Map<string, string>();
  const prOf = new Map<string, number>();
  const branches = git(path, ['for-each-ref', '--format=%(refname:short)', 'refs/heads'])
    .split('\n')
    .map((b) => b.trim())
    .filter((b) => b !== '' && b !== base);
  for (const b of branches) {
    const only = git(path, ['rev-list', b, ...(base ? [`^${base}`] : [])]).split('\n');
    for (const sha of only)
      if (sha.trim() !== '' && !branchOf.has(sha.trim())) branchOf.set(sha.trim(), b);
  }
  const rows: PrCommitRow[] = [];
  for (const record of log.split('\x1e')) {
    const [sha = '', parents = '', author = '', date = '', subject = '', body = ''] = record
      .replace(/^\n/, '')
      .split('\x1f');
    if (!/^[0-9a-f]{40}$/.test(sha)) continue;
    const { pr, merge } = prOfSubject(subject);
    if (pr > 0) {
      prOf.set(sha, pr);
      const ps = parents.split(' ');
      if (merge && ps.length === 2)
        for (const c of git(path, ['rev-list', `${ps[0] ?? ''}..${ps[1] ?? ''}`]).split('\n'))
          if (c.trim() !== '' && !prOf.has(c.trim())) prOf.set(c.trim(), pr);
    }
    rows.push({
      repo,
      sha,
      source: 'import-git',
      pr: 0,
      branch: branchOf.get(sha) ?? '',
      session_id: sessionTrailer(body),
      author,
      committed_at: toClickHouseTime(new Date(date)),
      delivery_id: '',
    });
  }
  return rows.map((r) => ({ ...r, pr: prOf.get(r.sha) ?? 0 }));
}
