import { describe, expect, it } from 'vitest';
import {
  githubWebhookHandler,
  repoKey,
  restFacts,
  sessionTrailer,
  signBody,
  verifySignature,
  webhookFacts,
  type PrFacts,
} from '../../pipeline/src/github/index.js';
import { pullRequest, pullRequestEvent, pushEvent } from '../fixtures/github/webhooks.js';

const pr = {
  number: 7,
  head: 'feat/x',
  headSha: 'a'.repeat(40),
  author: 'ana',
  createdAt: '2026-11-10T09:00:00Z',
  mergedAt: '2026-11-10T15:00:00Z',
  closedAt: '2026-11-10T15:00:00Z',
  additions: 3,
  deletions: 4,
};

describe('GitHub webhook signature (X-Hub-Signature-256)', () => {
  // The example from GitHub's docs, "Validating webhook deliveries".
  it('matches the documented example', () => {
    const sig = signBody("It's a Secret to Everybody", 'Hello, World!');
    expect(sig).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
    expect(verifySignature("It's a Secret to Everybody", Buffer.from('Hello, World!'), sig)).toBe(
      true,
    );
  });

  it('rejects a wrong secret, a changed body, a malformed or sha1 header', () => {
    const body = Buffer.from('{"a":1}');
    const sig = signBody('s', body);
    expect(verifySignature('t', body, sig)).toBe(false);
    expect(verifySignature('s', Buffer.from('{"a":2}'), sig)).toBe(false);
    expect(verifySignature('s', body, sig.slice(0, -2))).toBe(false);
    expect(verifySignature('s', body, 'sha1=' + 'a'.repeat(40))).toBe(false);
    expect(verifySignature('s', body, '')).toBe(false);
  });
});

describe('webhook handler', () => {
  const stored: PrFacts[] = [];
  const store = {
    deliveryStored: (id: string) => Promise.resolve(id === 'seen'),
    write: (f: PrFacts) => {
      stored.push(f);
      return Promise.resolve();
    },
  };
  const body = Buffer.from(JSON.stringify(pullRequestEvent('opened', pr)));
  const headers = (sig: string, id = 'd1') => ({
    'x-hub-signature-256': sig,
    'x-github-event': 'pull_request',
    'x-github-delivery': id,
    'content-type': 'application/json',
  });

  it('refuses everything without a configured secret, saying what to set', async () => {
    const h = githubWebhookHandler({ secret: undefined, store });
    const res = await h({
      body,
      headers: headers(signBody('x', body)),
      params: new URLSearchParams(),
    });
    expect(res.status).toBe(503);
    expect(JSON.stringify(res.body)).toContain('HM_GITHUB_WEBHOOK_SECRET');
    expect(stored).toHaveLength(0);
  });

  it('stores a signed delivery once; a stored delivery id is a duplicate', async () => {
    const h = githubWebhookHandler({ secret: 'k', store });
    expect(
      (
        await h({
          body,
          headers: headers('sha256=' + '0'.repeat(64)),
          params: new URLSearchParams(),
        })
      ).status,
    ).toBe(401);
    expect(stored).toHaveLength(0);
    const ok = await h({
      body,
      headers: headers(signBody('k', body)),
      params: new URLSearchParams(),
    });
    expect(ok).toMatchObject({ status: 200, body: { events: 2 } }); // opened + merged
    const dup = await h({
      body,
      headers: headers(signBody('k', body), 'seen'),
      params: new URLSearchParams(),
    });
    expect(dup.body).toMatchObject({ duplicate: true });
    expect(stored).toHaveLength(1);
  });

  it('reads the form-encoded content type (payload=…)', async () => {
    const h = githubWebhookHandler({ secret: 'k', store });
    const form = Buffer.from(
      new URLSearchParams({ payload: JSON.stringify(pullRequestEvent('opened', pr)) }).toString(),
    );
    const res = await h({
      body: form,
      headers: {
        ...headers(signBody('k', form)),
        'content-type': 'application/x-www-form-urlencoded',
      },
      params: new URLSearchParams(),
    });
    expect(res.status).toBe(200);
  });
});

describe('PR facts from GitHub payloads', () => {
  it('a merged pull_request: merged at merged_at, opened at created_at, sizes, no body', () => {
    const f = webhookFacts('pull_request', pullRequestEvent('closed', pr), 'd');
    expect(f?.events.map((e) => [e.kind, e.event_key, e.at])).toEqual([
      ['merged', 'merged', '2026-11-10 15:00:00.000'],
      ['opened', 'opened', '2026-11-10 09:00:00.000'],
    ]);
    expect(f?.events[0]).toMatchObject({
      repo: 'acme/api',
      pr: 7,
      head_branch: 'feat/x',
      additions: 3,
      deletions: 4,
      author: 'ana',
    });
    expect(JSON.stringify(f)).not.toContain('SECRET');
  });

  it('a closed, unmerged PR and a push to a tag', () => {
    const closed = webhookFacts(
      'pull_request',
      pullRequestEvent('closed', { ...pr, mergedAt: null }),
      'd',
    );
    expect(closed?.events[0]).toMatchObject({
      kind: 'closed',
      event_key: 'closed:2026-11-10 15:00:00.000',
    });
    expect(
      webhookFacts('push', { ...pushEvent('x', []), ref: 'refs/tags/v1' }, 'd'),
    ).toBeUndefined();
    expect(webhookFacts('issues', { action: 'opened' }, 'd')).toBeUndefined();
  });

  it('push commits keep the Agent-Session trailer, not the message', () => {
    const f = webhookFacts(
      'push',
      pushEvent('feat/x', [
        {
          id: 'F'.repeat(40),
          message: 'Subject\n\nBody text\n\nAgent-Session: sess-9\nSigned-off-by: A <a@b>',
          timestamp: '2026-11-10T10:00:00+02:00',
        },
      ]),
      'd',
    );
    expect(f?.commits).toEqual([
      {
        repo: 'acme/api',
        sha: 'f'.repeat(40),
        source: 'webhook-push',
        pr: 0,
        branch: 'feat/x',
        session_id: 'sess-9',
        author: 'cara',
        committed_at: '2026-11-10 08:00:00.000',
        delivery_id: 'd',
      },
    ]);
  });

  it('sessionTrailer reads only the trailer block', () => {
    expect(sessionTrailer('x\n\nAgent-Session: abc')).toBe('abc');
    expect(sessionTrailer('Agent-Session: in-subject')).toBe('');
    expect(sessionTrailer('x\n\nagent-session:  q1 \nCo-authored-by: b')).toBe('q1');
    expect(sessionTrailer('x\n\nno trailer here')).toBe('');
  });

  it('repoKey normalizes URLs the way the rollup does', () => {
    expect(repoKey('https://github.com/Acme/API.git')).toBe('acme/api');
    expect(repoKey('git@github.com:acme/api.git')).toBe('acme/api');
    expect(repoKey('https://x-access-token:t@github.com/acme/api/')).toBe('acme/api');
    expect(repoKey('acme/api')).toBe('acme/api');
  });

  it('REST: pulls, reviews (PR from pull_request_url), commits (need --pr)', () => {
    const pull = pullRequest(pr);
    const review = {
      id: 80,
      user: { login: 'bob' },
      body: 'SECRET',
      state: 'CHANGES_REQUESTED',
      submitted_at: '2026-11-10T11:00:00Z',
      commit_id: 'a'.repeat(40),
      pull_request_url: 'https://api.github.com/repos/acme/api/pulls/7',
    };
    const commit = {
      sha: 'C'.repeat(40),
      commit: {
        author: { name: 'A', email: 'a@x', date: '2026-11-10T08:00:00Z' },
        committer: { name: 'A', email: 'a@x', date: '2026-11-10T08:01:00Z' },
        message: 'x\n\nAgent-Session: s-1',
      },
      author: { login: 'ana' },
      html_url: 'https://github.com/acme/api/commit/' + 'c'.repeat(40),
    };
    const f = restFacts([[pull], [review]]);
    expect(f.events.map((e) => [e.kind, e.pr, e.review_state])).toEqual([
      ['opened', 7, ''],
      ['merged', 7, ''],
      ['review', 7, 'changes_requested'],
    ]);
    expect(() => restFacts([commit])).toThrow(/--pr N/);
    expect(restFacts([commit], { pr: 7 }).commits[0]).toMatchObject({
      sha: 'c'.repeat(40),
      pr: 7,
      session_id: 's-1',
      committed_at: '2026-11-10 08:01:00.000',
    });
    expect(() => restFacts([{ hello: 1 }])).toThrow(/not a pull request, a review or a commit/);
  });
});
