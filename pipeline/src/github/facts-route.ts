/**
 * POST /api/v1/import/pr-facts: the PR facts `harness-meter import prs|git` read on the CLI's side,
 * stored by the running server (which holds the store). The body is checked field by field; a bad
 * one is refused with the field named and nothing is stored.
 */
import {
  insertPrFacts,
  PR_EVENT_KINDS,
  toClickHouseTime,
  type ClickHouseClient,
  type PrCommitRow,
  type PrEventRow,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import type { PostHandler } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import type { PrFacts } from './events.js';

type Json = Record<string, unknown>;

const EVENT_SOURCES = ['webhook', 'import-prs'] as const;
const COMMIT_SOURCES = ['webhook-push', 'import-prs', 'import-git'] as const;

function bad(path: string, what: string): never {
  throw new PipelineError('BAD_REQUEST', `pr-facts ${path}: expected ${what}. Nothing was stored.`);
}

/** Checks one object's fields by type ('string', 'uint', 'uint?', 'string?'); throws naming the first bad one. */
export function checkRow(v: unknown, path: string, fields: Record<string, string>): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(path, 'an object');
  const o = v as Json;
  for (const [k, type] of Object.entries(fields)) {
    const x = o[k];
    const ok =
      type === 'string'
        ? typeof x === 'string'
        : type === 'uint'
          ? typeof x === 'number' && Number.isInteger(x) && x >= 0
          : type === 'uint?'
            ? x === null || (typeof x === 'number' && Number.isInteger(x) && x >= 0)
            : type === 'string?'
              ? x === null || typeof x === 'string'
              : false;
    if (!ok)
      bad(`${path}.${k}`, type.replace('?', ' or null').replace('uint', 'a non-negative integer'));
  }
  return o;
}

const FACT_TIME_RE =
  /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** A fact's time as ClickHouse DateTime64 text; a 400 naming the field when it is not a time we store. */
function factTime(v: unknown, path: string): string {
  const text = typeof v === 'string' ? v.trim() : '';
  const iso = text.replace(' ', 'T');
  const d = new Date(/(?:Z|[+-]\d{2}:?\d{2})$/.test(iso) || !iso.includes('T') ? iso : `${iso}Z`);
  if (!FACT_TIME_RE.test(text) || Number.isNaN(d.getTime()))
    bad(path, `an ISO time such as "2026-11-20T10:00:00Z" (got ${JSON.stringify(v)})`);
  try {
    return toClickHouseTime(d);
  } catch {
    return bad(path, `a time in 1900..2300 (got ${JSON.stringify(v)})`);
  }
}

/** Checks a JSON body as PR facts (the shape the import readers produce). */
export function parsePrFacts(body: Uint8Array): PrFacts {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    bad('body', `JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Json;
  if (!Array.isArray(o.events) || !Array.isArray(o.commits))
    bad('body', '{"events": [...], "commits": [...]}');
  const events = (o.events as unknown[]).map((e, i) => {
    const r = checkRow(e, `events[${i}]`, {
      repo: 'string',
      pr: 'uint',
      event_key: 'string',
      kind: 'string',
      at: 'string',
      author: 'string',
      actor: 'string',
      head_branch: 'string',
      base_branch: 'string',
      head_sha: 'string',
      created_at: 'string?',
      review_state: 'string',
      check_name: 'string',
      check_conclusion: 'string',
      additions: 'uint?',
      deletions: 'uint?',
      changed_files: 'uint?',
      source: 'string',
      delivery_id: 'string',
    });
    if (!(PR_EVENT_KINDS as readonly string[]).includes(r.kind as string))
      bad(`events[${i}].kind`, `one of ${PR_EVENT_KINDS.join(', ')}`);
    if (!(EVENT_SOURCES as readonly string[]).includes(r.source as string))
      bad(`events[${i}].source`, `one of ${EVENT_SOURCES.join(', ')}`);
    r.at = factTime(r.at, `events[${i}].at`);
    if (r.created_at !== null && r.created_at !== undefined)
      r.created_at = factTime(r.created_at, `events[${i}].created_at`);
    return r as unknown as PrEventRow;
  });
  const commits = (o.commits as unknown[]).map((c, i) => {
    const r = checkRow(c, `commits[${i}]`, {
      repo: 'string',
      sha: 'string',
      source: 'string',
      pr: 'uint',
      branch: 'string',
      session_id: 'string',
      author: 'string',
      committed_at: 'string',
      delivery_id: 'string',
    });
    if (!(COMMIT_SOURCES as readonly string[]).includes(r.source as string))
      bad(`commits[${i}].source`, `one of ${COMMIT_SOURCES.join(', ')}`);
    r.committed_at = factTime(r.committed_at, `commits[${i}].committed_at`);
    return r as unknown as PrCommitRow;
  });
  return { events, commits };
}

export function prFactsRoute(
  client: ClickHouseClient,
  options: { db: string; logger: Logger },
): Record<string, PostHandler> {
  return {
    '/api/v1/import/pr-facts': async ({ body }) => {
      const facts = parsePrFacts(body);
      await insertPrFacts(client, options.db, facts);
      options.logger.info('pr facts imported', {
        events: facts.events.length,
        commits: facts.commits.length,
      });
      return {
        status: 200,
        body: { stored: { events: facts.events.length, commits: facts.commits.length } },
      };
    },
  };
}
