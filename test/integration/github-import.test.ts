import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '@harness-meter/queries';
import { freePort, postOnce, runCli, startServerProcess, waitForExit } from '../helpers/cli.js';
import { tempDataDir } from '../helpers/store.js';
import { pullRequest } from '../fixtures/github/webhooks.js';

const DB = 'hm_import';

function gitRepo(): { path: string; sha: (ref: string) => string } {
  const path = mkdtempSync(join(tmpdir(), 'hm-git-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Ana',
    GIT_AUTHOR_EMAIL: 'ana@acme.dev',
    GIT_COMMITTER_NAME: 'Ana',
    GIT_COMMITTER_EMAIL: 'ana@acme.dev',
    GIT_AUTHOR_DATE: '2026-11-10T10:00:00Z',
    GIT_COMMITTER_DATE: '2026-11-10T10:00:00Z',
  };
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', path, ...args], { env, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('commit', '-q', '--allow-empty', '-m', 'root');
  git('checkout', '-q', '-b', 'feat/y');
  git('commit', '-q', '--allow-empty', '-m', 'work on y\n\nAgent-Session: sess-y');
  git('checkout', '-q', 'main');
  git('merge', '-q', '--no-ff', 'feat/y', '-m', 'Merge pull request #12 from acme/feat/y');
  git('checkout', '-q', '-b', 'feat/z');
  git('commit', '-q', '--allow-empty', '-m', 'start z\n\nAgent-Session: sess-z');
  git('checkout', '-q', 'main');
  git('commit', '-q', '--allow-empty', '-m', 'Fix a thing (#13)');
  return { path, sha: (ref) => git('rev-parse', ref) };
}

describe('harness-meter import git / import prs (CLI, real chDB)', () => {
  it('stores commits with trailers, branches and PR numbers from merge subjects, and REST PR facts', async () => {
    const repo = gitRepo();
    const dataDir = tempDataDir('import');
    const env = {
      HM_DATA_DIR: dataDir,
      HM_CLICKHOUSE_DATABASE: DB,
      HM_API_URL: 'http://127.0.0.1:1',
    };
    const g = runCli(
      ['import', 'git', repo.path, '--repo', 'https://github.com/Acme/Api.git'],
      env,
    );
    expect(g.stderr).toBe('');
    expect(g.stdout).toContain('import git: 0 PR event(s), 5 commit(s) (2 agent session(s)');

    const file = join(mkdtempSync(join(tmpdir(), 'hm-prs-')), 'pulls.json');
    writeFileSync(
      file,
      JSON.stringify([
        [
          pullRequest({
            number: 14,
            head: 'feat/z',
            headSha: repo.sha('feat/z'),
            author: 'ana',
            createdAt: '2026-11-11T09:00:00Z',
          }),
        ],
      ]),
    );
    const p = runCli(['import', 'prs', file], env);
    expect(p.stdout).toContain('import prs: 1 PR event(s), 0 commit(s)');
    // The same file again changes nothing (natural keys).
    expect(runCli(['import', 'prs', file], env).status).toBe(0);
    const bad = runCli(['import', 'prs', join(tmpdir(), 'does-not-exist.json')], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('Cannot read');

    const client = await openStore({ kind: 'chdb', dataDir });
    try {
      const rs = await client.query({
        query: `SELECT sha, pr, branch, session_id FROM ${DB}.pr_commits FINAL ORDER BY committed_at, sha`,
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ sha: string; pr: number; branch: string; session_id: string }>();
      const of = (ref: string) => rows.find((r) => r.sha === repo.sha(ref));
      expect(rows).toHaveLength(5);
      expect(of('feat/y')).toMatchObject({ pr: 12, session_id: 'sess-y' });
      expect(of('main~1')).toMatchObject({ pr: 12 }); // the merge commit
      expect(of('feat/z')).toMatchObject({ pr: 0, branch: 'feat/z', session_id: 'sess-z' });
      expect(of('main')).toMatchObject({ pr: 13, session_id: '' });
      const ev = await client.query({
        query: `SELECT repo, pr, kind, head_branch FROM ${DB}.pr_events FINAL`,
        format: 'JSONEachRow',
      });
      expect(await ev.json()).toEqual([
        { repo: 'acme/api', pr: 14, kind: 'opened', head_branch: 'feat/z' },
      ]);
    } finally {
      await client.close();
    }
  });

  it('with a server running, the CLI reads git and REST files itself and the server stores the facts', async () => {
    const repo = gitRepo();
    const dataDir = tempDataDir('import-server');
    const env = {
      HM_DATA_DIR: dataDir,
      HM_CLICKHOUSE_DATABASE: DB,
      HM_PORT: String(await freePort()),
      HM_ALERTS: 'off',
    };
    const server = await startServerProcess(env);
    try {
      const apiEnv = { ...env, HM_API_URL: server.url };
      const g = runCli(['import', 'git', repo.path, '--repo', 'acme/api'], apiEnv);
      expect(g.stderr).toBe('');
      expect(g.stdout).toContain(
        `5 commit(s) (2 agent session(s) named by Agent-Session trailers) stored in ${DB} by the server at ${server.url}`,
      );
      // A malformed body is refused with the field named, and nothing is stored.
      const bad = await postOnce(
        `${server.url}/api/v1/import/pr-facts`,
        JSON.stringify({ events: [], commits: [{ repo: 'acme/api', sha: 'abc', pr: -1 }] }),
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('commits[0].source: expected string');
    } finally {
      server.child.kill('SIGINT');
      expect(await waitForExit(server.child)).toBe(0);
    }
    const client = await openStore({ kind: 'chdb', dataDir });
    try {
      const rs = await client.query({
        query: `SELECT count() AS n, uniqExact(session_id) - 1 AS sessions FROM ${DB}.pr_commits FINAL`,
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ n: '5', sessions: '2' }]);
    } finally {
      await client.close();
    }
  }, 90_000);
});
