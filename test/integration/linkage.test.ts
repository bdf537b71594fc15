import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costPerMergedPr,
  costPerPr,
  firstPass,
  linkageReport,
  reviewVelocity,
  spendPerDeveloper,
  timeToMerge,
} from '@harness-meter/queries';
import { loadConfig } from '../../pipeline/src/config.js';
import { startEmbedded, type RunningServer } from '../../pipeline/src/embedded.js';
import { signBody } from '../../pipeline/src/github/index.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import type { PricedSpan } from '../../pipeline/src/model.js';
import { pricedSpan } from '../helpers/spans.js';
import { tempDataDir } from '../helpers/store.js';
import {
  checkSuiteEvent,
  pullRequestEvent,
  pushEvent,
  reviewEvent,
  workflowRunEvent,
  type PullSpec,
} from '../fixtures/github/webhooks.js';

/**
 * One hand-computed scenario, through the embedded server: PR facts arrive as signed GitHub
 * webhooks, spans through the sink, and every report is checked against the sums below.
 *
 * PRs of acme/api                     opened            merged            lines  reviews / checks
 *   101 feat/a (ana)                  11-10 09:00       11-10 15:00       40     approved 12:00; suite success
 *   102 feat/b (ana)                  11-10 10:00       11-11 10:00       300    changes_requested 11:00, approved 13:00
 *   103 fix/c  (bob), head C103       11-12 09:00       11-12 12:00       10     workflow failure 10:00, success 11:30
 *   104 manual/d (dan), no agent      11-13 08:00       11-13 18:00       1000   approved 10:00
 *   105 feat/e (cara)                 11-14 09:00       open              -      -
 * Sessions (spend in nano-USD)
 *   S1 implement ana: feat/a 08:30 1000 (before the PR opened) + 09:30 5000 → PR 101 (branch);
 *                     feat/b 10:30 4000 → PR 102 (branch): one session split by span
 *   S2 implement bob: explicit PR 102: 12:00 6000 (no branch) + 12:01 1000 on feat/a (explicit wins)
 *   S3 implement bob: branch wip, commit C103 at 11-12 09:30 3000 → PR 103 (commit)
 *   S4 implement cara: no branch, 11-14 10:00 8000; its commit on feat/e carries
 *                     `Agent-Session: S4` → PR 105 (trailer)
 *   S5 implement ana: branch experiment 11-15 10:00 500 + one unpriced call → unattributed
 *   S6 explore, no developer: 11-15 11:00 100 (no branch); 11-16 feat/a 50 (PR 101 closed) → unattributed
 */
const DB = 'hm_linkage';
const SECRET = 'it-is-a-secret';
let server: RunningServer;
const window = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
const C103 = 'c103'.padEnd(40, '0');
const C105 = 'c105'.padEnd(40, '0');

const prs: Record<number, PullSpec> = {
  101: {
    number: 101,
    head: 'feat/a',
    headSha: 'a101'.padEnd(40, '0'),
    author: 'ana',
    createdAt: '2026-11-10T09:00:00Z',
    mergedAt: '2026-11-10T15:00:00Z',
    closedAt: '2026-11-10T15:00:00Z',
    additions: 30,
    deletions: 10,
  },
  102: {
    number: 102,
    head: 'feat/b',
    headSha: 'b102'.padEnd(40, '0'),
    author: 'ana',
    createdAt: '2026-11-10T10:00:00Z',
    mergedAt: '2026-11-11T10:00:00Z',
    closedAt: '2026-11-11T10:00:00Z',
    additions: 200,
    deletions: 100,
  },
  103: {
    number: 103,
    head: 'fix/c',
    headSha: C103,
    author: 'bob',
    createdAt: '2026-11-12T09:00:00Z',
    mergedAt: '2026-11-12T12:00:00Z',
    closedAt: '2026-11-12T12:00:00Z',
    additions: 5,
    deletions: 5,
  },
  104: {
    number: 104,
    head: 'manual/d',
    headSha: 'd104'.padEnd(40, '0'),
    author: 'dan',
    createdAt: '2026-11-13T08:00:00Z',
    mergedAt: '2026-11-13T18:00:00Z',
    closedAt: '2026-11-13T18:00:00Z',
    additions: 1000,
    deletions: 0,
  },
  105: {
    number: 105,
    head: 'feat/e',
    headSha: C105,
    author: 'cara',
    createdAt: '2026-11-14T09:00:00Z',
    additions: 20,
    deletions: 0,
  },
};
const open = (n: number): PullSpec => ({ ...prs[n]!, mergedAt: null, closedAt: null });

let delivery = 0;
async function send(
  event: string,
  payload: unknown,
  opts: { signature?: string; id?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const res = await fetch(`${server.receiver.url}/v1/github/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': opts.id ?? `d-${++delivery}`,
      'x-hub-signature-256': opts.signature ?? signBody(SECRET, body),
      'user-agent': 'GitHub-Hookshot/abc',
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function count(table: string): Promise<number> {
  const rs = await server.client.query({
    query: `SELECT count() AS n FROM ${DB}.${table} FINAL`,
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: string }>())[0]?.n);
}

const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const span = (
  session: string,
  iso: string,
  cost: bigint | null,
  o: Partial<PricedSpan> = {},
): PricedSpan =>
  pricedSpan({
    startTimeUnixNano: at(iso),
    spanType: 'llm',
    provider: 'anthropic',
    requestModel: 'claude-sonnet-4-5',
    responseModel: cost === null ? 'mystery' : 'claude-sonnet-4-5',
    sessionId: session,
    repo: 'https://github.com/acme/api.git',
    inputTokens: 10,
    outputTokens: 1,
    costNanos: cost,
    priceId: cost === null ? '' : 'p',
    unpriced: cost === null,
    ...o,
  });

beforeAll(async () => {
  server = await startEmbedded(
    loadConfig(
      {},
      {
        port: 0,
        dataDir: tempDataDir('linkage'),
        database: DB,
        batchMaxWaitMs: 10,
        detectIdleMs: 3_600_000,
        githubWebhookSecret: SECRET,
      },
    ),
    silentLogger,
  );
});
afterAll(async () => {
  await server.stop();
});

describe('GitHub webhook (signed, idempotent) and PR linkage (real chDB)', () => {
  it('refuses a missing or wrong signature with 401 and stores nothing', async () => {
    const payload = pullRequestEvent('opened', open(101));
    const missing = await send('pull_request', payload, { signature: '' });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('BAD_SIGNATURE');
    const wrong = await send('pull_request', payload, {
      signature: signBody('another-secret', JSON.stringify(payload)),
    });
    expect(wrong.status).toBe(401);
    // Signed body, tampered after signing.
    const tampered = await send(
      'pull_request',
      { ...payload, number: 999 },
      {
        signature: signBody(SECRET, JSON.stringify(payload)),
      },
    );
    expect(tampered.status).toBe(401);
    expect(await count('pr_events')).toBe(0);
  });

  it('stores PR facts from each event, once per delivery, and never the bodies', async () => {
    const first = await send('pull_request', pullRequestEvent('opened', open(101)), {
      id: 'dup-1',
    });
    expect(first).toMatchObject({ status: 200, body: { ok: true, events: 1 } });
    const again = await send('pull_request', pullRequestEvent('opened', open(101)), {
      id: 'dup-1',
    });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await count('pr_events')).toBe(1);
    expect((await send('ping', { zen: 'Keep it logically awesome.' })).status).toBe(200);

    for (const n of [102, 103, 104, 105])
      expect((await send('pull_request', pullRequestEvent('opened', open(n)))).status).toBe(200);
    await send(
      'pull_request_review',
      reviewEvent(open(101), { id: 1, state: 'approved', at: '2026-11-10T12:00:00Z', by: 'bob' }),
    );
    await send(
      'pull_request_review',
      reviewEvent(open(102), {
        id: 2,
        state: 'changes_requested',
        at: '2026-11-10T11:00:00Z',
        by: 'bob',
      }),
    );
    await send(
      'pull_request_review',
      reviewEvent(open(102), { id: 3, state: 'approved', at: '2026-11-10T13:00:00Z', by: 'bob' }),
    );
    await send(
      'pull_request_review',
      reviewEvent(open(104), { id: 4, state: 'approved', at: '2026-11-13T10:00:00Z', by: 'ana' }),
    );
    await send(
      'check_suite',
      checkSuiteEvent(open(101), { id: 501, conclusion: 'success', at: '2026-11-10T14:00:00Z' }),
    );
    await send(
      'workflow_run',
      workflowRunEvent(open(103), {
        id: 601,
        attempt: 1,
        conclusion: 'failure',
        at: '2026-11-12T10:00:00Z',
      }),
    );
    await send(
      'workflow_run',
      workflowRunEvent(open(103), {
        id: 601,
        attempt: 2,
        conclusion: 'success',
        at: '2026-11-12T11:30:00Z',
      }),
    );
    await send(
      'pull_request',
      pullRequestEvent(
        'synchronize',
        { ...open(103), updatedAt: '2026-11-12T09:20:00Z' },
        { after: C103 },
      ),
    );
    const push = await send(
      'push',
      pushEvent('feat/e', [
        {
          id: C105,
          message: 'Add e\n\nLong body.\n\nAgent-Session: S4',
          timestamp: '2026-11-14T10:05:00Z',
        },
      ]),
    );
    expect(push.body).toMatchObject({ commits: 1 });
    for (const n of [101, 102, 103, 104])
      expect((await send('pull_request', pullRequestEvent('closed', prs[n]!))).status).toBe(200);
    // A redelivery under a new delivery id (GitHub "Redeliver") is the same fact: one row.
    await send('pull_request', pullRequestEvent('closed', prs[101]!));

    // opened ×5, merged ×4, reviews 4, checks 3, synchronize 1
    expect(await count('pr_events')).toBe(17);
    expect(await count('pr_commits')).toBe(1);
    const rs = await server.client.query({
      query: `SELECT * FROM ${DB}.pr_events`,
      format: 'JSONEachRow',
    });
    const text = await rs.text();
    expect(text).not.toContain('SECRET');
    const commits = await server.client.query({
      query: `SELECT sha, branch, session_id, source FROM ${DB}.pr_commits`,
      format: 'JSONEachRow',
    });
    expect(await commits.json()).toEqual([
      { sha: C105, branch: 'feat/e', session_id: 'S4', source: 'webhook-push' },
    ]);
  });

  it('links spend by rule, splits a multi-branch session by span, and keeps an unattributed bucket', async () => {
    const ana = { developer: 'ana', team: 'core', intent: 'implement' };
    const bob = { developer: 'bob', team: 'core', intent: 'implement' };
    await server.sink.write([
      span('S1', '2026-11-10T08:30:00Z', 1000n, { ...ana, branch: 'feat/a' }),
      span('S1', '2026-11-10T09:30:00Z', 5000n, { ...ana, branch: 'feat/a' }),
      span('S1', '2026-11-10T10:30:00Z', 4000n, { ...ana, branch: 'feat/b' }),
      span('S2', '2026-11-10T12:00:00Z', 6000n, { ...bob, pr: 102 }),
      span('S2', '2026-11-10T12:01:00Z', 1000n, { ...bob, pr: 102, branch: 'feat/a' }),
      span('S3', '2026-11-12T09:30:00Z', 3000n, { ...bob, branch: 'wip', commit: C103 }),
      span('S4', '2026-11-14T10:00:00Z', 8000n, {
        developer: 'cara',
        team: 'web',
        intent: 'implement',
        repo: 'https://github.com/acme/api',
      }),
      span('S5', '2026-11-15T10:00:00Z', 500n, { ...ana, branch: 'experiment' }),
      span('S5', '2026-11-15T10:00:30Z', null, { ...ana, branch: 'experiment' }),
      span('S6', '2026-11-15T11:00:00Z', 100n, { intent: 'explore' }),
      span('S6', '2026-11-16T11:00:00Z', 50n, { intent: 'explore', branch: 'feat/a' }),
    ]);
    await server.sink.flush();
    // A redundancy finding of S1 with no PR on its span, at 10:40: S1's spend of that hour is on
    // feat/b, so the waste (50 tokens, 300 + 200 nano-USD) is charged to PR 102 by the branch rule.
    await server.client.insert({
      table: `${DB}.waste_findings`,
      values: [
        {
          session_id: 'S1',
          span_id: 'w1',
          trace_id: 't',
          scan_id: 5,
          Timestamp: '2026-11-10 10:40:00',
          kind: 're_read',
          repo: 'https://github.com/acme/api.git',
          pr: 0,
          developer: 'ana',
          team: 'core',
          wasted_tokens: 50,
          direct_cost_nanos: 300,
          carried_cost_nanos: 200,
        },
      ],
      format: 'JSONEachRow',
    });
    await server.client.insert({
      table: `${DB}.session_scans`,
      values: [
        {
          session_id: 'S1',
          scan_id: 5,
          last_ingested_at: '2026-11-20 00:00:00',
          spans: 3,
          findings: 1,
        },
      ],
      format: 'JSONEachRow',
    });

    const rows = await costPerPr(server.client, { db: DB, ...window });
    const by = (pr: number | null) => rows.find((r) => r.pr === pr);
    expect(rows.map((r) => [r.pr, r.cost_nanos, r.rules, r.state])).toEqual([
      [102, '11000', 'branch,explicit', 'merged'],
      [105, '8000', 'trailer', 'open'],
      [101, '6000', 'branch', 'merged'],
      [103, '3000', 'commit', 'merged'],
      [null, '650', 'unattributed', null],
    ]);
    expect(by(102)).toMatchObject({
      sessions: 2,
      llm_calls: 3,
      merged_at: '2026-11-11 10:00:00.000',
    });
    expect(by(null)).toMatchObject({ sessions: 2, llm_calls: 4, unpriced_calls: 1 });
    expect(by(101)?.repo).toBe('https://github.com/acme/api.git');

    const link = await linkageReport(server.client, { db: DB, ...window });
    expect(link.map((r) => [r.rule, r.cost_nanos, r.sessions, r.prs, r.share_pct])).toEqual([
      ['explicit', '7000', 1, 1, 24.43],
      ['commit', '3000', 1, 1, 10.47],
      ['branch', '10000', 1, 2, 34.9],
      ['trailer', '8000', 1, 1, 27.92],
      ['unattributed', '650', 2, 0, 2.27],
    ]);
    // Filters: only ana's spend.
    const anaLink = await linkageReport(server.client, { db: DB, ...window, developer: 'ana' });
    expect(anaLink.map((r) => r.cost_nanos)).toEqual(['0', '0', '10000', '0', '500']);
  });

  it('dollars per merged PR, spend per active developer', async () => {
    expect(await costPerMergedPr(server.client, { db: DB, ...window })).toEqual([
      {
        repo: 'acme/api',
        merged_prs: 4,
        agent_merged_prs: 3,
        sessions: 3,
        llm_calls: 6,
        cost_nanos: '20000',
        cost_usd: 0.00002,
        cost_per_merged_pr_nanos: '5000',
        cost_per_merged_pr_usd: 0.000005,
        cost_per_agent_pr_nanos: '6667',
        unpriced_calls: 0,
        unattributed_cost_nanos: '650',
        unattributed_cost_usd: 0.00000065,
      },
    ]);
    const dev = await spendPerDeveloper(server.client, { db: DB, ...window });
    expect(
      dev.map((r) => [
        r.period,
        r.active_developers,
        r.cost_nanos,
        r.cost_per_active_developer_nanos,
        r.unknown_developer_cost_nanos,
      ]),
    ).toEqual([
      ['2026-11-10', 2, '17000', '8500', '0'],
      ['2026-11-12', 1, '3000', '3000', '0'],
      ['2026-11-14', 1, '8000', '8000', '0'],
      ['2026-11-15', 1, '600', '500', '100'],
      ['2026-11-16', 0, '50', null, '50'],
      ['window', 3, '28650', '9500', '150'],
    ]);
    const anaOnly = await spendPerDeveloper(server.client, { db: DB, ...window, developer: 'ana' });
    expect(anaOnly.at(-1)).toMatchObject({
      period: 'window',
      active_developers: 1,
      cost_nanos: '10500',
    });
  });

  it('time to merge, size and review velocity: agent-assisted against the others', async () => {
    const ttm = await timeToMerge(server.client, { db: DB, ...window });
    expect(ttm).toEqual([
      expect.objectContaining({
        cohort: 'agent-assisted',
        prs: 3,
        median_hours_to_merge: 6,
        p90_hours_to_merge: 20.4,
        median_lines_changed: 40,
        avg_lines_changed: 116.7,
      }),
      expect.objectContaining({
        cohort: 'other',
        prs: 1,
        median_hours_to_merge: 10,
        median_lines_changed: 1000,
      }),
    ]);
    const rv = await reviewVelocity(server.client, { db: DB, ...window });
    expect(
      rv.map((r) => [
        r.cohort,
        r.size,
        r.prs,
        r.median_hours_to_first_review,
        r.median_review_hours_per_100_lines,
      ]),
    ).toEqual([
      ['agent-assisted', 'S', 1, 3, 7.5],
      ['agent-assisted', 'M', 1, 1, 0.33],
      ['other', 'L', 1, 2, 0.2],
    ]);
  });

  it('first-pass success of implementation sessions', async () => {
    expect(await firstPass(server.client, { db: DB, ...window })).toEqual([
      {
        repo: 'acme/api',
        sessions: 5,
        unlinked_sessions: 1,
        pending_sessions: 1,
        resolved_sessions: 3,
        first_pass_sessions: 1,
        changes_requested_sessions: 1,
        failing_check_sessions: 1,
        closed_unmerged_sessions: 0,
        first_pass_pct: 33.33,
      },
    ]);
  });

  it('serves the reports over the HTTP API with filters', async () => {
    const res = await fetch(
      `${server.receiver.url}/api/v1/reports/linkage?since=2026-11-01&until=2026-12-01&team=web`,
    );
    const body = (await res.json()) as { rows: { rule: string; cost_nanos: string }[] };
    expect(body.rows.find((r) => r.rule === 'trailer')?.cost_nanos).toBe('8000');
    expect(body.rows.reduce((n, r) => n + BigInt(r.cost_nanos), 0n)).toBe(8000n);
  });
});
