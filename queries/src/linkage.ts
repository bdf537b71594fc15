import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName } from './sql.js';

/** One fact about a pull request (table pr_events). Times are ClickHouse DateTime64(3) UTC literals. */
export interface PrEventRow {
  /** owner/name, lower case */
  repo: string;
  pr: number;
  /** Natural key of the fact, so redeliveries and re-imports are one row. */
  event_key: string;
  kind: PrEventKind;
  at: string;
  author: string;
  actor: string;
  head_branch: string;
  base_branch: string;
  head_sha: string;
  created_at: string | null;
  review_state: string;
  check_name: string;
  check_conclusion: string;
  additions: number | null;
  deletions: number | null;
  changed_files: number | null;
  source: 'webhook' | 'import-prs';
  delivery_id: string;
}

export const PR_EVENT_KINDS = [
  'opened',
  'reopened',
  'pushed',
  'updated',
  'review',
  'check',
  'merged',
  'closed',
] as const;
export type PrEventKind = (typeof PR_EVENT_KINDS)[number];

/** A commit known to exist (table pr_commits); session_id from an `Agent-Session:` trailer. */
export interface PrCommitRow {
  repo: string;
  sha: string;
  source: 'webhook-push' | 'import-prs' | 'import-git';
  /** 0 = this source does not know the PR. */
  pr: number;
  branch: string;
  session_id: string;
  author: string;
  committed_at: string;
  delivery_id: string;
}

async function insert(
  client: ClickHouseClient,
  table: string,
  rows: readonly object[],
): Promise<void> {
  if (rows.length === 0) return;
  try {
    await client.insert({ table, values: [...rows], format: 'JSONEachRow' });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Storing ${table} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

/**
 * Stores PR facts. Idempotent: rows with the same natural key collapse (ReplacingMergeTree), and
 * readers use FINAL.
 * @example await insertPrFacts(client, 'harness_meter', { events, commits });
 */
export async function insertPrFacts(
  client: ClickHouseClient,
  db: string,
  facts: { events: readonly PrEventRow[]; commits: readonly PrCommitRow[] },
): Promise<void> {
  assertDatabaseName(db);
  await insert(client, `${db}.pr_events`, facts.events);
  await insert(client, `${db}.pr_commits`, facts.commits);
}

/** Whether a webhook delivery (X-GitHub-Delivery) already stored something. */
export async function deliveryStored(
  client: ClickHouseClient,
  db: string,
  deliveryId: string,
): Promise<boolean> {
  assertDatabaseName(db);
  try {
    const rs = await client.query({
      query: `SELECT (SELECT count() FROM {db:Identifier}.pr_events WHERE delivery_id = {d:String})
                   + (SELECT count() FROM {db:Identifier}.pr_commits WHERE delivery_id = {d:String}) AS n`,
      query_params: { db, d: deliveryId },
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ n: string | number }>();
    return Number(rows[0]?.n ?? 0) > 0;
  } catch (err) {
    throw new StoreError(
      'QUERY_FAILED',
      `Checking delivery ${deliveryId} failed: ${messageOf(err)}`,
      {
        cause: err,
        retriable: true,
      },
    );
  }
}
