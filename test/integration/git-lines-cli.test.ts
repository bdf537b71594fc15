import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  postOnce,
  reportRows,
  runCli,
  startServerProcess,
  waitForExit,
} from '../helpers/cli.js';
import { signBody } from '../../pipeline/src/github/index.js';
import { scriptedRepo, stage1, stage2 } from '../helpers/git-repo.js';
import { tempDataDir } from '../helpers/store.js';

/**
 * The scenario of git-lines.test.ts through the CLI and a running server (which holds the store).
 * Observed now (December 2026), every window is closed; no spend is linked, so PR 7 (squash, no
 * trailer) is human:
 *   churn  agent PRs 1,3,5,6: added 10+6+4+5 = 25, churned 3+2 + 2 + 4 + 0 = 11 → 44 %
 *          human PRs 2,3,4,7: added 10+4+3+2 = 19, churned 1 (m7)            → 5.26 %
 *   defects (30-day window, so PR 6, merged 03-10, is provisional before --until 04-01):
 *          agent PRs 1,3,5: 2 (3 by INC-1, 5 by revert) of 3 = 66.67 %; human PRs 2,4,7: 2 (PR 2 by Fixes #2 and issue #40, PR 4 by issue #40) of 3 = 66.67 %
 */
const SECRET = 'git-lines-secret';

describe('import git / import incidents / report churn|survival|defects (CLI and server)', () => {
  it('stores line fates and defects through the server, and reports them on the CLI and the API', async () => {
    const repo = scriptedRepo();
    const agentCommit = stage1(repo);
    stage2(repo);
    const csv = join(repo.path, 'incidents.csv');
    writeFileSync(csv, `id,opened_at,commit\nINC-1,2026-01-15T12:00:00Z,${agentCommit}\n`);
    const dataDir = tempDataDir('git-cli');
    const env = {
      HM_DATA_DIR: dataDir,
      HM_CLICKHOUSE_DATABASE: 'hm_git_cli',
      HM_PORT: String(await freePort()),
      HM_ALERTS: 'off',
      HM_GITHUB_WEBHOOK_SECRET: SECRET,
      HM_INCIDENT_LABELS: 'sev1, incident',
    };
    const server = await startServerProcess(env);
    try {
      const apiEnv = { ...env, HM_API_URL: server.url };
      const g = runCli(['import', 'git', repo.path, '--repo', 'acme/shop'], apiEnv);
      expect(g.stderr).toBe('');
      // 12 first-parent commits (init, 6 merges, the squash of #7, trim m, the revert, fix h, drop a);
      // lines added: README 2 + PRs 10+10+10+2+3+4+5 + M7 1 + H1,H2 2 = 49. PR 3 mixes agent and
      // human commits: split by blame. Defects: the revert (PR 5), Fixes #2.
      expect(g.stdout).toContain(
        'import git: walked 12 main commit(s): 49 line(s) added by 7 PR(s) and direct pushes followed (1 PR(s) split by blame), 2 defect link(s)',
      );
      // Again: only the commits of the 30 days before the last one (02-20, PR 6's merge) are walked.
      const again = runCli(['import', 'git', repo.path, '--repo', 'acme/shop'], apiEnv);
      expect(again.stdout).toContain('walked 2 main commit(s) (since the last import');
      const inc = runCli(['import', 'incidents', csv, '--repo', 'acme/shop'], apiEnv);
      expect(inc.stdout).toBe('import incidents: 1 incident(s), 1 linked to a PR\n');

      // An issue labelled Sev1 (a configured label) naming PRs 2 and 4 (and another repository's #3):
      // incidents of PRs 2 and 4. One labelled only `bug` (not configured here) is ignored.
      const issue = (n: number, label: string) =>
        JSON.stringify({
          action: 'labeled',
          repository: { full_name: 'Acme/Shop' },
          issue: {
            number: n,
            created_at: '2026-01-21T08:00:00Z',
            title: 'Checkout broke',
            body: 'After #2 and https://github.com/acme/shop/pull/4; see also other/repo#3',
            labels: [{ name: label }],
          },
        });
      const deliver = async (body: string, id: string) => {
        const res = await fetch(`${server.url}/v1/github/webhook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'issues',
            'x-github-delivery': id,
            'x-hub-signature-256': signBody(SECRET, body),
          },
          body,
        });
        return (await res.json()) as Record<string, unknown>;
      };
      expect(await deliver(issue(40, 'Sev1'), 'd-40')).toMatchObject({ incidents: 2 });
      expect(await deliver(issue(41, 'bug'), 'd-41')).toMatchObject({ ignored: true });

      const window = ['--since', '2026-01-01', '--until', '2026-04-01', '--format', 'json'];
      const churn = runCli(['report', 'churn', ...window], apiEnv);
      expect(churn.stderr).toBe('');
      const rows = reportRows(churn.stdout);
      expect(rows.map((r) => [r.cohort, r.status, r.prs, r.lines_added, r.churn_pct])).toEqual([
        ['human', 'final', 4, 19, 5.26],
        ['agent', 'final', 4, 25, 44],
      ]);
      const res = await fetch(
        `${server.url}/api/v1/reports/defects?since=2026-01-01&until=2026-04-01`,
      );
      const body = (await res.json()) as { rows: Record<string, unknown>[] };
      // PR 6 (merged 03-10) has no closed 30-day window before --until 04-01: provisional.
      expect(
        body.rows.map((r) => [r.cohort, r.status, r.prs, r.defect_prs, r.defect_escape_pct]),
      ).toEqual([
        ['agent', 'final', 3, 2, 66.67],
        ['agent', 'provisional', 1, 0, 0],
        ['human', 'final', 3, 2, 66.67],
      ]);
      const bad = runCli(['report', 'survival', '--by', 'planet', ...window], apiEnv);
      // The CLI refuses an unknown cut before asking (usage error, exit 2); the API says why.
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("argument 'planet' is invalid");
      const badApi = await fetch(`${server.url}/api/v1/reports/survival?by=planet`);
      expect(badApi.status).toBe(400);
      expect(await badApi.text()).toContain('is not a cut of churn, survival or defects');
      // A malformed part is refused with the field named.
      const refused = await postOnce(
        `${server.url}/api/v1/import/git-lines`,
        JSON.stringify({ lineFates: [{ repo: 'acme/shop', pr: -1 }], defects: [], walk: null }),
      );
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('lineFates[0].merge_sha: expected string');
    } finally {
      server.child.kill('SIGINT');
      expect(await waitForExit(server.child)).toBe(0);
    }
  }, 120_000);
});
