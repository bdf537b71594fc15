import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName, queryRows } from './sql.js';

/**
 * Lines one default-branch commit added, written by one origin commit, and their fate within 14 and
 * 30 days (table git_line_fates). Times are ClickHouse DateTime64(3) UTC literals.
 */
export interface LineFateRow {
  repo: string;
  merge_sha: string;
  /** 0 = a direct push, not a PR. */
  pr: number;
  merged_at: string;
  origin_sha: string;
  origin_session: string;
  origin_author: string;
  lines_added: number;
  rewritten_14d: number;
  removed_14d: number;
  rewritten_30d: number;
  removed_30d: number;
  /** History was walked up to here: a window ending later is provisional. */
  observed_at: string;
}

/** A defect traced to a PR, with the reference that links it (table pr_defects). */
export interface DefectRow {
  repo: string;
  pr: number;
  /** `<kind>:<defect commit sha>` or `incident:<id>`: the same link imported twice is one row. */
  defect_key: string;
  kind: 'revert-commit' | 'revert-pr' | 'fix-reference' | 'incident';
  at: string;
  evidence: string;
  source: 'import-git' | 'import-incidents' | 'webhook-issues';
}

/** Where the last `import git` of a repository's base branch stopped (table git_walks). */
export interface GitWalkRow {
  repo: string;
  base: string;
  head_sha: string;
  head_at: string;
  commits: number;
}

/** Rows per insert: ClickHouse wants large, few inserts (see the sink's batch size). */
export const GIT_INSERT_BATCH_ROWS = 10_000;

async function insertRows(
  client: ClickHouseClient,
  db: string,
  table: string,
  rows: readonly object[],
): Promise<void> {
  assertDatabaseName(db);
  for (let i = 0; i < rows.length; i += GIT_INSERT_BATCH_ROWS) {
    try {
      await client.insert({
        table: `${db}.${table}`,
        values: rows.slice(i, i + GIT_INSERT_BATCH_ROWS),
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: `harness-meter insert ${table}` },
      });
    } catch (err) {
      throw new StoreError('QUERY_FAILED', `Storing ${table} failed: ${messageOf(err)}`, {
        cause: err,
        retriable: true,
      });
    }
  }
}

/** Stores line fates (idempotent: the same (repo, merge, origin) again replaces the row). */
export function insertLineFates(
  client: ClickHouseClient,
  db: string,
  rows: readonly LineFateRow[],
): Promise<void> {
  return insertRows(client, db, 'git_line_fates', rows);
}

/** Stores defect links (idempotent on (repo, pr, defect_key)). */
export function insertDefects(
  client: ClickHouseClient,
  db: string,
  rows: readonly DefectRow[],
): Promise<void> {
  return insertRows(client, db, 'pr_defects', rows);
}

/** Records where a walk stopped. */
export function insertGitWalk(
  client: ClickHouseClient,
  db: string,
  row: GitWalkRow,
): Promise<void> {
  return insertRows(client, db, 'git_walks', [row]);
}

const select = <T>(
  client: ClickHouseClient,
  name: string,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> => queryRows<T>(client, query, params, `harness-meter ${name}`, name);

/** The last walk of a repository's base branch, if any. */
export async function lastGitWalk(
  client: ClickHouseClient,
  db: string,
  repo: string,
  base: string,
): Promise<GitWalkRow | undefined> {
  assertDatabaseName(db);
  const rows = await select<GitWalkRow>(
    client,
    'git-walk state',
    `SELECT repo, base, head_sha, toString(head_at) AS head_at, commits FROM {db:Identifier}.git_walks FINAL
     WHERE repo = {repo:String} AND base = {base:String}`,
    { db, repo, base },
  );
  const r = rows[0];
  return r === undefined ? undefined : { ...r, commits: Number(r.commits) };
}

/**
 * The PR that brought each commit (merge or squash SHA, or a commit of a merged PR), for commits
 * whose SHA starts with one of `prefixes` (an incident may name an abbreviated SHA).
 */
export async function prsOfCommits(
  client: ClickHouseClient,
  db: string,
  repo: string,
  prefixes: readonly string[],
): Promise<Map<string, number>> {
  assertDatabaseName(db);
  const out = new Map<string, number>();
  if (prefixes.length === 0) return out;
  const rows = await select<{ prefix: string; pr: number }>(
    client,
    'prs-of-commits',
    `SELECT p AS prefix, max(pr) AS pr
     FROM (
        SELECT sha, pr FROM {db:Identifier}.pr_commits WHERE repo = {repo:String} AND pr != 0
        UNION ALL
        SELECT merge_sha AS sha, pr FROM {db:Identifier}.git_line_fates WHERE repo = {repo:String} AND pr != 0
        UNION ALL
        SELECT origin_sha AS sha, pr FROM {db:Identifier}.git_line_fates WHERE repo = {repo:String} AND pr != 0
     ) ARRAY JOIN {prefixes:Array(String)} AS p
     WHERE startsWith(sha, p)
     GROUP BY p`,
    { db, repo, prefixes },
  );
  for (const r of rows) out.set(r.prefix, Number(r.pr));
  return out;
}
