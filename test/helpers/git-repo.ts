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

/** The scenario of test/integration/git-lines.test.ts (figures there). */
const AGENT = (session: string) => ({ name: 'Agent Bot', session });
const HANA = { name: 'Hana' };

/** History up to 02-20 (stage 1); returns the SHA of PR 3's agent commit. */
export function stage1(r: ScriptedRepo): string {
  r.write('README.md', ['shop', 'readme']);
  r.commit('init', '2026-01-01T08:00:00Z', HANA);
  // PR 1: agent only
  r.git(['checkout', '-q', '-b', 'feat-a']);
  r.write('a.ts', lines('a', 10));
  r.commit('add a', '2026-01-02T09:00:00Z', AGENT('s-1'));
  r.git(['checkout', '-q', 'main']);
  r.mergePr(1, 'feat-a', '2026-01-02T10:00:00Z', HANA);
  // PR 2: human only
  r.git(['checkout', '-q', '-b', 'feat-h']);
  r.write('h.ts', lines('h', 10));
  r.commit('add h', '2026-01-03T09:00:00Z', HANA);
  r.git(['checkout', '-q', 'main']);
  r.mergePr(2, 'feat-h', '2026-01-03T10:00:00Z', HANA);
  // PR 3: an agent commit, then a human one
  r.git(['checkout', '-q', '-b', 'feat-m']);
  r.write('m.ts', lines('m', 6));
  const agentCommit = r.commit('add m', '2026-01-04T08:00:00Z', AGENT('s-2'));
  r.write('m.ts', lines('m', 10));
  r.commit('finish m', '2026-01-04T09:00:00Z', HANA);
  r.git(['checkout', '-q', 'main']);
  r.mergePr(3, 'feat-m', '2026-01-04T10:00:00Z', HANA);
  // PR 7: squash merge by a human, no trailer (agent by linkage)
  r.write('d.ts', lines('d', 2));
  r.commit('Add d (#7)', '2026-01-05T10:00:00Z', HANA);
  // PR 4: rewrites a1..a3, removes a9, a10
  r.git(['checkout', '-q', '-b', 'fix-a']);
  r.write('a.ts', [...lines('A', 3), ...lines('a', 5, 4)]);
  r.commit('rework a', '2026-01-08T09:00:00Z', HANA);
  r.git(['checkout', '-q', 'main']);
  r.mergePr(4, 'fix-a', '2026-01-08T10:00:00Z', HANA);
  // 01-10, on main: remove m1, m2; rewrite m7
  r.write('m.ts', ['m3', 'm4', 'm5', 'm6', 'M7', 'm8', 'm9', 'm10']);
  r.commit('trim m', '2026-01-10T10:00:00Z', HANA);
  // PR 5: agent, reverted two days later
  r.git(['checkout', '-q', '-b', 'feat-b']);
  r.write('b.ts', lines('b', 4));
  r.commit('add b', '2026-01-12T09:00:00Z', AGENT('s-3'));
  r.git(['checkout', '-q', 'main']);
  const merge5 = r.mergePr(5, 'feat-b', '2026-01-12T10:00:00Z', HANA);
  r.git(['revert', '--no-edit', '-m', '1', merge5], '2026-01-14T10:00:00Z', HANA);
  // 01-20: a fix naming PR 2, rewriting h1, h2
  r.write('h.ts', [...lines('H', 2), ...lines('h', 8, 3)]);
  r.commit('fix h parsing\n\nFixes #2', '2026-01-20T10:00:00Z', HANA);
  // 02-20: a.ts goes
  r.remove('a.ts');
  r.commit('drop a', '2026-02-20T10:00:00Z', HANA);
  return agentCommit;
}

export function stage2(r: ScriptedRepo): void {
  r.git(['checkout', '-q', '-b', 'feat-c']);
  r.write('c.ts', lines('c', 5));
  r.commit('add c', '2026-03-10T09:00:00Z', AGENT('s-4'));
  r.git(['checkout', '-q', 'main']);
  r.mergePr(6, 'feat-c', '2026-03-10T10:00:00Z', HANA);
}
