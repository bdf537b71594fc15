import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Who commits: a name, and the Agent-Session trailer its commits carry (agent only). */
export interface Committer {
  name: string;
  session?: string;
}

/** A scratch git repository whose commits happen at chosen times, by chosen people. */
export interface ScriptedRepo {
  path: string;
  git(args: string[], at?: string, who?: Committer): string;
  write(file: string, lines: readonly string[]): void;
  remove(file: string): void;
  /** Commits everything staged and unstaged; returns the SHA. */
  commit(message: string, at: string, who: Committer): string;
  /** A no-fast-forward merge of `branch` into the current branch, GitHub's subject. */
  mergePr(pr: number, branch: string, at: string, who: Committer): string;
  sha(ref: string): string;
}

export function scriptedRepo(): ScriptedRepo {
  const path = mkdtempSync(join(tmpdir(), 'hm-gitrepo-'));
  const run = (args: string[], at = '2026-01-01T00:00:00Z', who: Committer = { name: 'Setup' }) =>
    execFileSync('git', ['-C', path, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: who.name,
        GIT_AUTHOR_EMAIL: `${who.name.toLowerCase().replace(/\W+/g, '.')}@acme.dev`,
        GIT_COMMITTER_NAME: who.name,
        GIT_COMMITTER_EMAIL: `${who.name.toLowerCase().replace(/\W+/g, '.')}@acme.dev`,
        GIT_AUTHOR_DATE: at,
        GIT_COMMITTER_DATE: at,
        GIT_CONFIG_NOSYSTEM: '1',
        HOME: path,
      },
    }).trim();
  run(['init', '-q', '-b', 'main']);
  const repo: ScriptedRepo = {
    path,
    git: run,
    write(file, lines) {
      mkdirSync(dirname(join(path, file)), { recursive: true });
      writeFileSync(join(path, file), lines.map((l) => `${l}\n`).join(''));
    },
    remove(file) {
      rmSync(join(path, file));
    },
    commit(message, at, who) {
      run(['add', '-A'], at, who);
      const body =
        who.session === undefined ? message : `${message}\n\nAgent-Session: ${who.session}`;
      run(['commit', '-q', '--allow-empty', '-m', body], at, who);
      return run(['rev-parse', 'HEAD']);
    },
    mergePr(pr, branch, at, who) {
      run(
        ['merge', '-q', '--no-ff', branch, '-m', `Merge pull request #${pr} from acme/${branch}`],
        at,
        who,
      );
      return run(['rev-parse', 'HEAD']);
    },
    sha: (ref) => run(['rev-parse', ref]),
  };
  return repo;
}

/** `prefix1` … `prefixN`. */
export const lines = (prefix: string, n: number, from = 1): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${i + from}`);
