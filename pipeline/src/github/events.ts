import type { PrCommitRow, PrEventKind, PrEventRow } from '@harness-meter/queries';
import { repoKey, toClickHouseTime } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';

/**
 * Pure mapping of GitHub data (webhook payloads, REST API objects) to PR facts. Only facts are
 * kept: numbers, SHAs, branches, logins, states, line counts, times. Bodies of PRs, reviews and
 * comments, and commit messages, are never stored (a commit message is read for its trailer only).
 */
export interface PrFacts {
  events: PrEventRow[];
  commits: PrCommitRow[];
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number | null =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
const login = (v: unknown): string => str(obj(v).login);

/** The trailer naming the agent session that produced a commit. */
export const SESSION_TRAILER = 'Agent-Session';

/**
 * The `Agent-Session: <id>` trailer of a commit message (last paragraph, git's trailer syntax), or ''.
 * @example sessionTrailer('fix x\n\nAgent-Session: abc') === 'abc'
 */
export function sessionTrailer(message: string): string {
  const paragraphs = message
    .replace(/\r\n/g, '\n')
    .trimEnd()
    .split(/\n\s*\n/);
  const last = paragraphs.length > 1 ? (paragraphs.at(-1) ?? '') : '';
  for (const line of last.split('\n')) {
    const m = /^agent-session\s*:\s*(\S+)\s*$/i.exec(line.trim());
    if (m) return m[1] ?? '';
  }
  return '';
}

/**
 * The first `Agent-Session:` line anywhere in a message: a GitHub squash merge lists the messages
 * of the PR's commits in its body, so their trailers are not in its last paragraph.
 * @example squashSessionTrailer('Add x (#7)\n\n* work\n\nAgent-Session: s1\n\n* more') === 's1'
 */
export function squashSessionTrailer(message: string): string {
  const m = /^[\t ]*agent-session[\t ]*:[\t ]*(\S+)[\t ]*$/im.exec(message);
  return m?.[1] ?? '';
}

function time(v: unknown, what: string): string {
  const d = new Date(str(v));
  if (str(v) === '' || Number.isNaN(d.getTime()))
    throw new PipelineError(
      'BAD_REQUEST',
      `${what} is not an ISO time (got ${JSON.stringify(v)}); GitHub sends e.g. "2026-11-20T10:00:00Z".`,
    );
  return toClickHouseTime(d);
}

function optTime(v: unknown): string | null {
  const d = new Date(str(v));
  return str(v) === '' || Number.isNaN(d.getTime()) ? null : toClickHouseTime(d);
}

function prNumber(v: unknown, what: string): number {
  const n = int(v);
  if (n === null || n === 0 || n > 4_294_967_295)
    throw new PipelineError(
      'BAD_REQUEST',
      `${what} has no valid PR number (got ${JSON.stringify(v)}).`,
    );
  return n;
}

function repoOf(payload: Json): string {
  const repository = obj(payload.repository);
  const name = str(repository.full_name) || repoKey(str(repository.html_url));
  if (name === '')
    throw new PipelineError(
      'BAD_REQUEST',
      'The payload names no repository (repository.full_name): send GitHub webhook payloads unchanged.',
    );
  return name.toLowerCase();
}

type Source = PrEventRow['source'];

/** The event fields a pull request object (webhook or REST) gives. */
function pullFields(
  repo: string,
  pull: Json,
  source: Source,
  delivery: string,
): Omit<PrEventRow, 'event_key' | 'kind' | 'at'> {
  const head = obj(pull.head);
  const base = obj(pull.base);
  return {
    repo,
    pr: prNumber(pull.number, 'pull_request'),
    author: login(pull.user),
    actor: '',
    head_branch: str(head.ref),
    base_branch: str(base.ref),
    head_sha: str(head.sha),
    created_at: optTime(pull.created_at),
    review_state: '',
    check_name: '',
    check_conclusion: '',
    additions: int(pull.additions),
    deletions: int(pull.deletions),
    changed_files: int(pull.changed_files),
    source,
    delivery_id: delivery,
  };
}

const event = (
  fields: Omit<PrEventRow, 'event_key' | 'kind' | 'at'>,
  kind: PrEventKind,
  key: string,
  at: string,
): PrEventRow => ({ ...fields, kind, event_key: key, at });

/**
 * The facts a PR object states by itself (REST `pulls` or a webhook's `pull_request`): it was
 * opened at created_at; merged at merged_at, or closed at closed_at.
 */
function pullStateEvents(
  fields: Omit<PrEventRow, 'event_key' | 'kind' | 'at'>,
  pull: Json,
): PrEventRow[] {
  const out: PrEventRow[] = [];
  const created = optTime(pull.created_at);
  if (created !== null) out.push(event(fields, 'opened', 'opened', created));
  const merged = optTime(pull.merged_at);
  const closed = optTime(pull.closed_at);
  if (merged !== null) out.push(event(fields, 'merged', 'merged', merged));
  else if (closed !== null) out.push(event(fields, 'closed', `closed:${closed}`, closed));
  return out;
}

function reviewEvent(
  repo: string,
  pr: number,
  review: Json,
  source: Source,
  delivery: string,
  fallbackAt: unknown,
): PrEventRow | undefined {
  const id = int(review.id);
  const state = str(review.state).toLowerCase();
  if (id === null || state === '' || state === 'pending') return undefined;
  const at = optTime(review.submitted_at) ?? time(fallbackAt, 'review.submitted_at');
  return {
    repo,
    pr,
    event_key: `review:${id}:${state}`,
    kind: 'review',
    at,
    author: '',
    actor: login(review.user),
    head_branch: '',
    base_branch: '',
    head_sha: str(review.commit_id),
    created_at: null,
    review_state: state,
    check_name: '',
    check_conclusion: '',
    additions: null,
    deletions: null,
    changed_files: null,
    source,
    delivery_id: delivery,
  };
}

function checkEvents(
  repo: string,
  run: Json,
  keyPrefix: string,
  name: string,
  delivery: string,
): PrEventRow[] {
  const conclusion = str(run.conclusion).toLowerCase();
  if (conclusion === '') return []; // not completed
  const at = time(run.updated_at ?? run.completed_at, `${keyPrefix}.updated_at`);
  const prs = Array.isArray(run.pull_requests) ? run.pull_requests.map(obj) : [];
  const numbers = prs.map((p) => int(p.number)).filter((n): n is number => n !== null && n > 0);
  // A run GitHub links to no PR (e.g. from a fork) is kept with pr 0 and its head SHA.
  return (numbers.length > 0 ? numbers : [0]).map((pr) => ({
    repo,
    pr,
    event_key: `${keyPrefix}:${conclusion}`,
    kind: 'check' as const,
    at,
    author: '',
    actor: '',
    head_branch: str(run.head_branch),
    base_branch: '',
    head_sha: str(run.head_sha),
    created_at: null,
    review_state: '',
    check_name: name,
    check_conclusion: conclusion,
    additions: null,
    deletions: null,
    changed_files: null,
    source: 'webhook' as const,
    delivery_id: delivery,
  }));
}

/** The GitHub webhook events harness-meter reads (others are acknowledged and ignored). */
export const WEBHOOK_EVENTS = [
  'pull_request',
  'pull_request_review',
  'push',
  'check_suite',
  'workflow_run',
  'issues',
] as const;

/**
 * Facts from one webhook delivery (`X-GitHub-Event` name and parsed JSON payload), or undefined
 * for events and actions that carry none.
 */
export function webhookFacts(
  eventName: string,
  payload: unknown,
  delivery: string,
): PrFacts | undefined {
  const p = obj(payload);
  const action = str(p.action);
  switch (eventName) {
    case 'pull_request': {
      const repo = repoOf(p);
      const pull = obj(p.pull_request);
      const fields = pullFields(repo, pull, 'webhook', delivery);
      const updated = time(pull.updated_at ?? pull.created_at, 'pull_request.updated_at');
      const events: PrEventRow[] = [];
      if (action === 'opened') events.push(...pullStateEvents(fields, pull));
      else if (action === 'reopened')
        events.push(event(fields, 'reopened', `reopened:${updated}`, updated));
      else if (action === 'closed')
        events.push(...pullStateEvents(fields, pull).filter((e) => e.kind !== 'opened'));
      else if (action === 'synchronize')
        events.push(event(fields, 'pushed', `pushed:${str(p.after) || fields.head_sha}`, updated));
      else events.push(event(fields, 'updated', `updated:${updated}`, updated));
      // Every PR object also states when it was opened: keep that fact too (same key: one row).
      if (action !== 'opened')
        events.push(...pullStateEvents(fields, pull).filter((e) => e.kind === 'opened'));
      return { events, commits: [] };
    }
    case 'pull_request_review': {
      if (action !== 'submitted' && action !== 'dismissed' && action !== 'edited') return undefined;
      const repo = repoOf(p);
      const pull = obj(p.pull_request);
      const pr = prNumber(pull.number, 'pull_request');
      const review = obj(p.review);
      const r = reviewEvent(
        repo,
        pr,
        action === 'dismissed' ? { ...review, state: 'dismissed' } : review,
        'webhook',
        delivery,
        pull.updated_at,
      );
      const opened = pullStateEvents(pullFields(repo, pull, 'webhook', delivery), pull).filter(
        (e) => e.kind === 'opened',
      );
      return { events: r === undefined ? opened : [r, ...opened], commits: [] };
    }
    case 'push': {
      const ref = str(p.ref);
      if (!ref.startsWith('refs/heads/')) return undefined; // tags
      const repo = repoOf(p);
      const branch = ref.slice('refs/heads/'.length);
      const commits = (Array.isArray(p.commits) ? p.commits : [])
        .map(obj)
        .flatMap((c): PrCommitRow[] => {
          const sha = str(c.id);
          if (!/^[0-9a-f]{40}$/i.test(sha)) return [];
          const author = obj(c.author);
          return [
            {
              repo,
              sha: sha.toLowerCase(),
              source: 'webhook-push',
              pr: 0,
              branch,
              session_id: sessionTrailer(str(c.message)),
              author: str(author.username) || str(author.email),
              committed_at: time(c.timestamp, 'commits[].timestamp'),
              delivery_id: delivery,
            },
          ];
        });
      return { events: [], commits };
    }
    case 'check_suite': {
      if (action !== 'completed') return undefined;
      const suite = obj(p.check_suite);
      const id = int(suite.id);
      if (id === null) throw new PipelineError('BAD_REQUEST', 'check_suite.id is missing.');
      const name = str(obj(suite.app).slug) || str(obj(suite.app).name);
      return {
        events: checkEvents(repoOf(p), suite, `check_suite:${id}`, name, delivery),
        commits: [],
      };
    }
    case 'workflow_run': {
      if (action !== 'completed') return undefined;
      const run = obj(p.workflow_run);
      const id = int(run.id);
      if (id === null) throw new PipelineError('BAD_REQUEST', 'workflow_run.id is missing.');
      const attempt = int(run.run_attempt) ?? 1;
      return {
        events: checkEvents(
          repoOf(p),
          run,
          `workflow_run:${id}:${attempt}`,
          str(run.name),
          delivery,
        ),
        commits: [],
      };
    }
    default:
      return undefined;
  }
}

/** What `import prs` was given, element by element. */
export interface ImportOptions {
  /** The PR the file's commits belong to (`gh api …/pulls/N/commits` does not say). */
  pr?: number;
}

function repoFromApiUrl(url: string): { repo: string; pr: number } | undefined {
  const m = /\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)/.exec(url);
  if (!m) return undefined;
  return { repo: (m[1] ?? '').toLowerCase(), pr: Number(m[2]) };
}

/**
 * Facts from the JSON that GitHub's REST API returns (`gh api`): pulls (a list or one PR),
 * reviews of a PR, commits of a PR (give `pr`). Pages from `--paginate --slurp` are flattened.
 */
export function restFacts(data: unknown, options: ImportOptions = {}): PrFacts {
  const items = (Array.isArray(data) ? data.flat(2) : [data]).map(obj);
  const facts: PrFacts = { events: [], commits: [] };
  items.forEach((item, i) => {
    const where = `element ${i}`;
    if (typeof item.sha === 'string' && typeof item.commit === 'object') {
      // a commit of a PR: html_url https://github.com/O/R/commit/SHA
      const m = /github\.com\/([^/]+\/[^/]+)\/commit\//.exec(str(item.html_url));
      if (!m)
        throw new PipelineError(
          'BAD_REQUEST',
          `${where}: a commit without html_url naming its repository.`,
        );
      if (options.pr === undefined)
        throw new PipelineError(
          'BAD_REQUEST',
          `${where} is a commit, and GitHub's commits list does not name its PR: pass --pr N (the N of gh api repos/O/R/pulls/N/commits).`,
        );
      const commit = obj(item.commit);
      facts.commits.push({
        repo: (m[1] ?? '').toLowerCase(),
        sha: item.sha.toLowerCase(),
        source: 'import-prs',
        pr: options.pr,
        branch: '',
        session_id: sessionTrailer(str(commit.message)),
        author: login(item.author) || str(obj(commit.author).email),
        committed_at: time(
          obj(commit.committer).date ?? obj(commit.author).date,
          `${where}.commit.committer.date`,
        ),
        delivery_id: '',
      });
    } else if (typeof item.pull_request_url === 'string' && typeof item.state === 'string') {
      const ref = repoFromApiUrl(item.pull_request_url);
      if (!ref)
        throw new PipelineError(
          'BAD_REQUEST',
          `${where}: pull_request_url is not a GitHub API PR URL.`,
        );
      const r = reviewEvent(ref.repo, ref.pr, item, 'import-prs', '', item.submitted_at);
      if (r) facts.events.push(r);
    } else if (typeof item.number === 'number' && typeof item.head === 'object') {
      const repo = str(obj(obj(obj(item.base).repo)).full_name).toLowerCase();
      if (repo === '')
        throw new PipelineError(
          'BAD_REQUEST',
          `${where}: a pull request without base.repo.full_name.`,
        );
      facts.events.push(...pullStateEvents(pullFields(repo, item, 'import-prs', ''), item));
    } else {
      throw new PipelineError(
        'BAD_REQUEST',
        `${where} is not a pull request, a review or a commit as GitHub's REST API returns them (see the README, "PR linkage and the harness metrics", Backfill from files).`,
      );
    }
  });
  return facts;
}

export { repoKey };
