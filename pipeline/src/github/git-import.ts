/**
 * Storing what the line walk and incident files produce, from the CLI (store opened locally) or by
 * a running server (POST /api/v1/import/git-lines, /git-walk-state, /incidents): the same
 * functions, so both paths store the same rows.
 */
import {
  insertDefects,
  insertGitWalk,
  insertLineFates,
  lastGitWalk,
  prsOfCommits,
  type ClickHouseClient,
  type DefectRow,
  type GitWalkRow,
  type LineFateRow,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import type { PostHandler } from '../ingest/server.js';
import type { Logger } from '../logger.js';
import { incidentDefects, type IncidentRecord } from './defects.js';
import { checkRow } from './facts-route.js';

/** What one walk stores (a server gets it in parts of at most GIT_INSERT_BATCH_ROWS rows). */
export interface GitLinesBatch {
  lineFates: LineFateRow[];
  defects: DefectRow[];
  /** Sent with the last part only: the walk's checkpoint is stored after its rows. */
  walk: GitWalkRow | null;
}

/** Stores a walk's rows, then its checkpoint (an interrupted import walks the same commits again). */
export async function storeGitLines(
  client: ClickHouseClient,
  db: string,
  batch: GitLinesBatch,
): Promise<void> {
  await insertLineFates(client, db, batch.lineFates);
  await insertDefects(client, db, batch.defects);
  if (batch.walk !== null) await insertGitWalk(client, db, batch.walk);
}

/**
 * Stores incidents as defect links. An incident naming a commit is linked to the PR that brought
 * it (import git first); one whose commit is unknown is returned, not stored.
 */
export async function storeIncidents(
  client: ClickHouseClient,
  db: string,
  incidents: readonly IncidentRecord[],
  source: DefectRow['source'] = 'import-incidents',
): Promise<{ stored: number; unresolved: IncidentRecord[] }> {
  const known = new Map<string, number>();
  const byRepo = new Map<string, string[]>();
  for (const i of incidents)
    if (i.pr === undefined && i.commit !== undefined)
      byRepo.set(i.repo, [...(byRepo.get(i.repo) ?? []), i.commit]);
  for (const [repo, prefixes] of byRepo)
    for (const [prefix, pr] of await prsOfCommits(client, db, repo, prefixes))
      known.set(`${repo}:${prefix}`, pr);
  const { rows, unresolved } = incidentDefects(
    incidents,
    (repo, sha) => known.get(`${repo}:${sha}`),
    source,
  );
  await insertDefects(client, db, rows);
  return { stored: rows.length, unresolved };
}

function json(body: Uint8Array, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new PipelineError('BAD_REQUEST', `${what}: expected a JSON object. Nothing was stored.`);
}

const FATE_FIELDS = {
  repo: 'string',
  merge_sha: 'string',
  pr: 'uint',
  merged_at: 'string',
  origin_sha: 'string',
  origin_session: 'string',
  origin_author: 'string',
  lines_added: 'uint',
  rewritten_14d: 'uint',
  removed_14d: 'uint',
  rewritten_30d: 'uint',
  removed_30d: 'uint',
  observed_at: 'string',
};
const DEFECT_FIELDS = {
  repo: 'string',
  pr: 'uint',
  defect_key: 'string',
  kind: 'string',
  at: 'string',
  evidence: 'string',
  source: 'string',
};
const DEFECT_KINDS = ['revert-commit', 'revert-pr', 'fix-reference', 'incident'];
const WALK_FIELDS = {
  repo: 'string',
  base: 'string',
  head_sha: 'string',
  head_at: 'string',
  commits: 'uint',
};

/** Checks a POSTed walk part field by field. */
export function parseGitLines(body: Uint8Array): GitLinesBatch {
  const o = json(body, 'git-lines body');
  if (!Array.isArray(o.lineFates) || !Array.isArray(o.defects))
    throw new PipelineError(
      'BAD_REQUEST',
      'git-lines body: expected {"lineFates": [...], "defects": [...], "walk": {...} | null}. Nothing was stored.',
    );
  const lineFates = (o.lineFates as unknown[]).map(
    (r, i) => checkRow(r, `lineFates[${i}]`, FATE_FIELDS) as unknown as LineFateRow,
  );
  const defects = (o.defects as unknown[]).map((r, i) => {
    const d = checkRow(r, `defects[${i}]`, DEFECT_FIELDS);
    if (!DEFECT_KINDS.includes(d.kind as string))
      throw new PipelineError(
        'BAD_REQUEST',
        `git-lines defects[${i}].kind: expected one of ${DEFECT_KINDS.join(', ')}. Nothing was stored.`,
      );
    return d as unknown as DefectRow;
  });
  const walk =
    o.walk === null || o.walk === undefined
      ? null
      : (checkRow(o.walk, 'walk', WALK_FIELDS) as unknown as GitWalkRow);
  return { lineFates, defects, walk };
}

/** The server's routes for `import git` (line fates) and `import incidents`. */
export function gitLinesRoute(
  client: ClickHouseClient,
  options: { db: string; logger: Logger },
): Record<string, PostHandler> {
  return {
    '/api/v1/import/git-lines': async ({ body }) => {
      const batch = parseGitLines(body);
      await storeGitLines(client, options.db, batch);
      options.logger.info('git lines imported', {
        lineFates: batch.lineFates.length,
        defects: batch.defects.length,
      });
      return {
        status: 200,
        body: { stored: { lineFates: batch.lineFates.length, defects: batch.defects.length } },
      };
    },
    '/api/v1/import/git-walk-state': async ({ body }) => {
      const o = json(body, 'git-walk-state body');
      const r = checkRow(o, 'git-walk-state', { repo: 'string', base: 'string' });
      return {
        status: 200,
        body: {
          last: (await lastGitWalk(client, options.db, r.repo as string, r.base as string)) ?? null,
        },
      };
    },
    '/api/v1/import/incidents': async ({ body }) => {
      const o = json(body, 'incidents body');
      if (!Array.isArray(o.incidents))
        throw new PipelineError('BAD_REQUEST', 'incidents body: expected {"incidents": [...]}.');
      const incidents = (o.incidents as unknown[]).map((x, i) => {
        const r = checkRow(x, `incidents[${i}]`, {
          id: 'string',
          opened_at: 'string',
          repo: 'string',
          label: 'string',
        });
        const opened = new Date(r.opened_at as string);
        if (Number.isNaN(opened.getTime()))
          throw new PipelineError('BAD_REQUEST', `incidents[${i}].opened_at: not a time.`);
        return {
          id: r.id as string,
          opened_at: opened,
          repo: r.repo as string,
          label: r.label as string,
          ...(typeof r.pr === 'number' ? { pr: r.pr } : {}),
          ...(typeof r.commit === 'string' ? { commit: r.commit } : {}),
        } satisfies IncidentRecord;
      });
      const result = await storeIncidents(client, options.db, incidents);
      return {
        status: 200,
        body: { stored: result.stored, unresolved: result.unresolved.map((u) => u.id) },
      };
    },
  };
}
