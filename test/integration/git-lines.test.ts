import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeChurn,
  codeSurvival,
  defectEscape,
  migrateUp,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { storeGitLines, storeIncidents, walkGitLines } from '../../pipeline/src/github/index.js';
import { readIncidentsFile } from '../../pipeline/src/github/defects.js';
import { createBlamer } from '../../pipeline/src/github/blamer.js';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { scriptedRepo, stage1, stage2, type ScriptedRepo } from '../helpers/git-repo.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';

/**
 * One scripted repository (acme/shop, base main), real git, real chDB. Hand-computed figures:
 *
 * PR  merged  how        lines added (origin)                      later, on main
 *  1  01-02   agent s-1  a.ts a1..a10 (10, agent)                  01-08 PR 4 rewrites a1..a3 (3) and removes a9,a10 (2);
 *                                                                  02-20 a.ts deleted (49 days: outside both windows)
 *  2  01-03   human      h.ts h1..h10 (10, human)                  01-20 "Fixes #2" rewrites h1,h2 (17 days: 30-day window only)
 *  3  01-04   mixed      m.ts m1..m6 (6, agent s-2) + m7..m10      01-10 removes m1,m2 (agent, 2) and rewrites m7 (human, 1)
 *                        (4, human): split by blame
 *  4  01-08   human      a.ts A1..A3 (3, human)                    02-20 deleted (43 days: outside)
 *  7  01-05   squash     d.ts d1,d2 (2): no trailer, but spend of session s-linked (lee, core, implement,
 *                        claude-x) is linked to PR 7 → agent by linkage
 *  5  01-12   agent s-3  b.ts b1..b4 (4, agent)                    01-14 git revert of the merge: removes 4 → defect
 *  6  03-10   agent s-4  c.ts c1..c5 (5, agent)                    observed 03-15: both windows open → provisional
 * Incidents: INC-1 names PR 3's agent commit (abbreviated) → defect of PR 3; INC-2 names PR 99 (no such merged PR:
 * not counted); INC-3 names an unknown commit → unresolved.
 *
 * Churn (14 d), final:  agent  PRs 1,3,5,7: added 10+6+4+2 = 22; rewritten 3; removed 2+2+4 = 8; 11/22 = 50 %
 *                       human  PRs 2,3,4:   added 10+4+3 = 17; rewritten 1 (m7); removed 0;        1/17 = 5.88 %
 *                       provisional: agent PR 6, 5 lines, 0 churned
 * Survival (30 d):      agent  22 lines, lost 3+8 = 11, alive 11: 50 %
 *                       human  17 lines, lost 2 (h1,h2) + 1 (m7) = 3, alive 14: 14/17 = 82.35 %
 * Defect escape:        agent  PRs 1,3,5,7, with a defect 3 (INC-1) and 5 (revert): 2/4 = 50 %
 *                       human  PRs 2,4, with a defect 2 (Fixes #2): 1/2 = 50 %; provisional agent PR 6: 0/1
 */
const window = { since: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-04-01T00:00:00Z') };
const STAGE1_NOW = new Date('2026-02-21T00:00:00Z');
const NOW = new Date('2026-03-15T00:00:00Z');

let client: ClickHouseClient;
let repo: ScriptedRepo;
let agentCommit: string;
const DB = 'hm_git_full';
const INC = 'hm_git_incremental';

async function importAll(db: string, now: Date, last?: { head_sha: string; head_at: Date }) {
  const result = await walkGitLines(repo.path, {
    repo: 'acme/shop',
    now,
    ...(last === undefined ? {} : { last }),
  });
  await storeGitLines(client, db, result);
  return result;
}

beforeAll(async () => {
  ({ client } = await openTempStore('git-lines'));
  await migrateUp(client, DB);
  await migrateUp(client, INC);
  repo = scriptedRepo();
  agentCommit = stage1(repo);
  // The incremental database sees the history twice: up to 02-20, then with PR 6.
  const first = await importAll(INC, STAGE1_NOW);
  expect(first.stats).toMatchObject({ incremental: false, blamedPrs: 1 });
  stage2(repo);
  const second = await importAll(INC, NOW, {
    head_sha: first.walk.head_sha,
    head_at: new Date(`${first.walk.head_at.replace(' ', 'T')}Z`),
  });
  // From the oldest first-parent commit at or after 02-20 − 30 days (01-21): 02-20 and PR 6's merge.
  expect(second.stats).toMatchObject({ incremental: true, firstParent: 2 });
  await importAll(DB, NOW);
  // Spend linked to PR 7 (explicit PR on the span), so its squash commit counts as agent-touched.
  const sink = createSpanSink(client, { db: DB, maxSpans: 10, maxWaitMs: 20 });
  await sink.write([
    pricedSpan({
      spanType: 'llm',
      startTimeUnixNano: BigInt(Date.UTC(2026, 0, 5, 9)) * 1_000_000n,
      repo: 'https://github.com/acme/shop.git',
      pr: 7,
      sessionId: 's-linked',
      developer: 'lee',
      team: 'core',
      intent: 'implement',
      provider: 'anthropic',
      requestModel: 'claude-x',
      responseModel: 'claude-x',
      inputTokens: 100,
      outputTokens: 10,
      costNanos: 1000n,
    }),
  ]);
  await sink.close();
}, 60_000);

afterAll(() => client.close());

describe('line walk on a scripted repository (real git, real chDB)', () => {
  it('computes churn, survival and defect escape, agent against human, as hand-computed', async () => {
    const dir = repo.path;
    const csv = join(dir, 'incidents.csv');
    writeFileSync(
      csv,
      [
        'id,opened_at,pr,commit,label',
        `INC-1,2026-01-15T12:00:00Z,,${agentCommit.slice(0, 10)},incident`,
        'INC-2,2026-01-16T12:00:00Z,#99,,bug',
        'INC-3,2026-01-17T12:00:00Z,,deadbeef1234,bug',
      ].join('\n'),
    );
    const incidents = readIncidentsFile(csv, 'acme/shop');
    const stored = await storeIncidents(client, DB, incidents);
    expect(stored.stored).toBe(2);
    expect(stored.unresolved.map((u) => u.id)).toEqual(['INC-3']);

    const churn = await codeChurn(client, { db: DB, ...window });
    expect(churn).toEqual([
      {
        by: 'repo',
        key: 'acme/shop',
        cohort: 'human',
        status: 'final',
        prs: 3,
        lines_added: 17,
        rewritten_14d: 1,
        removed_14d: 0,
        churned_14d: 1,
        churn_pct: 5.88,
      },
      {
        by: 'repo',
        key: 'acme/shop',
        cohort: 'agent',
        status: 'final',
        prs: 4,
        lines_added: 22,
        rewritten_14d: 3,
        removed_14d: 8,
        churned_14d: 11,
        churn_pct: 50,
      },
      {
        by: 'repo',
        key: 'acme/shop',
        cohort: 'agent',
        status: 'provisional',
        prs: 1,
        lines_added: 5,
        rewritten_14d: 0,
        removed_14d: 0,
        churned_14d: 0,
        churn_pct: 0,
      },
    ]);

    const survival = await codeSurvival(client, { db: DB, ...window });
    const final = survival.filter((r) => r.status === 'final');
    expect(final.map((r) => [r.cohort, r.lines_added, r.alive_30d, r.survival_pct])).toEqual([
      ['human', 17, 14, 82.35],
      ['agent', 22, 11, 50],
    ]);
    expect(survival.find((r) => r.status === 'provisional')).toMatchObject({
      cohort: 'agent',
      lines_added: 5,
      alive_30d: 5,
    });

    const defects = await defectEscape(client, { db: DB, ...window });
    expect(
      defects.map((r) => [r.cohort, r.status, r.prs, r.defect_prs, r.defect_escape_pct]),
    ).toEqual([
      ['agent', 'final', 4, 2, 50],
      ['agent', 'provisional', 1, 0, 0],
      ['human', 'final', 2, 1, 50],
    ]);
    const agentFinal = defects.find((r) => r.cohort === 'agent' && r.status === 'final');
    expect(agentFinal).toMatchObject({ reverts: 1, incidents: 1, fixes: 0 });
    expect(agentFinal?.evidence.sort()).toEqual([
      `acme/shop#3: incident INC-1 [incident] names commit ${agentCommit.slice(0, 10)}`,
      expect.stringMatching(
        /^acme\/shop#5: revert-commit commit [0-9a-f]{12}: This reverts commit [0-9a-f]{40}$/,
      ),
    ]);
    expect(defects.find((r) => r.cohort === 'human')?.evidence).toEqual([
      expect.stringMatching(/^acme\/shop#2: fix-reference commit [0-9a-f]{12}: Fixes #2$/),
    ]);
  });

  it('cuts by developer, model and intent (agent lines take their session’s)', async () => {
    const byDev = await codeChurn(client, { db: DB, ...window, by: 'developer' });
    expect(
      byDev
        .filter((r) => r.status === 'final')
        .map((r) => [r.key, r.cohort, r.lines_added, r.churned_14d]),
    ).toEqual([
      ['', 'agent', 20, 11],
      ['Hana', 'human', 17, 1],
      ['lee', 'agent', 2, 0],
    ]);
    const byModel = await codeSurvival(client, { db: DB, ...window, by: 'model' });
    expect(byModel.find((r) => r.key === 'claude-x')).toMatchObject({
      cohort: 'agent',
      prs: 1,
      lines_added: 2,
    });
    const byIntent = await defectEscape(client, { db: DB, ...window, by: 'intent' });
    expect(byIntent.find((r) => r.key === 'implement')).toMatchObject({ prs: 1, defect_prs: 0 });
    const onlyLee = await codeChurn(client, { db: DB, ...window, developer: 'lee' });
    expect(onlyLee.map((r) => [r.cohort, r.prs, r.lines_added])).toEqual([['agent', 1, 2]]);
  });

  it('an incremental import (new commits plus the 30 days before) stores what a full walk stores', async () => {
    const rows = async (db: string) => {
      const rs = await client.query({
        query: `SELECT merge_sha, pr, origin_sha, origin_session, lines_added, rewritten_14d, removed_14d,
                       rewritten_30d, removed_30d FROM ${db}.git_line_fates FINAL ORDER BY merge_sha, origin_sha`,
        format: 'JSONEachRow',
      });
      return rs.json();
    };
    const full = await rows(DB);
    expect(full.length).toBeGreaterThan(8);
    expect(await rows(INC)).toEqual(full);
    // Importing again changes nothing (same keys, latest row wins).
    await importAll(DB, NOW);
    expect(await rows(DB)).toEqual(full);
    const count = await client.query({
      query: `SELECT count() AS n FROM ${DB}.pr_defects FINAL`,
      format: 'JSONEachRow',
    });
    expect(await count.json()).toEqual([{ n: '4' }]); // revert, Fixes #2, INC-1, INC-2
  });

  it('says what is wrong with a path that is no repository, or a blame git refuses', async () => {
    await expect(walkGitLines(tmpdir(), { repo: 'acme/shop' })).rejects.toThrow(
      /no main or master branch: pass --base BRANCH|git .* failed/,
    );
    const blamer = createBlamer(repo.path);
    try {
      await expect(blamer.blame('no-such-rev', 'HEAD', 'c.ts')).rejects.toThrow(
        /git blame no-such-rev\.\.HEAD -- c\.ts failed in .* \(exit 128\)/,
      );
      // The shell keeps serving after a failure.
      const ok = await blamer.blame(repo.sha('main~1'), repo.sha('main'), 'c.ts');
      expect(ok.size).toBe(5);
    } finally {
      blamer.close();
    }
  });
});
