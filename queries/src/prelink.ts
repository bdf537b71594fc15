/**
 * Spend already charged to its PR (migration 0016). The linkage rules (reports/_linked_usage.sql) join
 * every link-rollup row with lookups computed from all PR facts, per query: at 10M spans / 20k PRs that
 * is most of a linked report's time. Here the result is stored (usage_linked_hour) with the lookups it
 * used (pr_links) and each PR's state (pr_state), and kept current lazily:
 *   - inserts mark what changed in link_dirty through materialized views (hours of spans stored or
 *     re-priced; repositories of PR facts), so no writer calls anything here;
 *   - before a linked report reads, the marked repositories' lookups and PR state are rebuilt, and the
 *     marked hours and repositories re-linked (delete, then insert from usage_by_link_hour), in one
 *     queue per store and database, so a report never reads a half re-linked table in this process.
 * The stored links are the links as of now; a report whose window ends before a stored PR fact (a
 * report of the past) computes them as of its end instead, as before, so results never change.
 * Re-linking whole hours and repositories from the link rollup is idempotent: a marker seen twice, or
 * a span stored while re-linking (its hour is marked again), only costs a second pass.
 * One writer: with several processes on one ClickHouse server, run linked reports from one of them.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { reportSql } from './reports.js';
import { assertDatabaseName } from './sql.js';

/** `until` of the stored links: after every PR fact (open PRs end at 2105-12-31). */
const FAR_FUTURE = '2105-12-31 00:00:00.000';

/** More marked hours than this re-link the whole table in one statement (after a bulk load). */
const ALL_HOURS_ABOVE = 2_000;

const queues = new WeakMap<ClickHouseClient, Map<string, Promise<unknown>>>();

/** Runs `job` after the jobs queued before it on this store and database. */
function enqueue<T>(client: ClickHouseClient, db: string, job: () => Promise<T>): Promise<T> {
  let byDb = queues.get(client);
  if (byDb === undefined) {
    byDb = new Map();
    queues.set(client, byDb);
  }
  const run = (byDb.get(db) ?? Promise.resolve()).then(job, job);
  byDb.set(
    db,
    run.catch(() => undefined),
  );
  return run;
}

async function rows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  const rs = await client.query({
    query,
    query_params: params,
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: 'harness-meter prelink' },
  });
  return rs.json<T>();
}

async function command(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<void> {
  await client.command({
    query,
    query_params: params,
    clickhouse_settings: { log_comment: 'harness-meter prelink' },
  });
}

/** What one re-link did: hours and repositories re-linked (`all`: the whole table; `more`: marks left). */
export interface PrelinkPass {
  hours: number;
  repos: number;
  all: boolean;
  more: boolean;
}

/** At most this much work in one pass (a background pass); a report's pass re-links everything. */
export interface PrelinkLimit {
  hours: number;
  repos: number;
}

async function relink(
  client: ClickHouseClient,
  db: string,
  limit?: PrelinkLimit,
): Promise<PrelinkPass> {
  const marks = await rows<{ id: string; kind: string; hour: string; repo: string }>(
    client,
    `SELECT toString(id) AS id, kind, toString(hour) AS hour, repo FROM {db:Identifier}.link_dirty`,
    { db },
  );
  if (marks.length === 0) return { hours: 0, repos: 0, all: false, more: false };
  const allHours = [...new Set(marks.filter((m) => m.kind === 'hour').map((m) => m.hour))].sort();
  const allRepos = [...new Set(marks.filter((m) => m.kind === 'repo').map((m) => m.repo))].sort();
  // A bounded pass takes the oldest hours and the first repositories; the rest stay marked. Re-linking
  // an hour with a marked repository's old lookups is harmless: that repository is re-linked later.
  const hours = limit ? allHours.slice(0, limit.hours) : allHours;
  const repos = limit ? allRepos.slice(0, limit.repos) : allRepos;
  const more = hours.length < allHours.length || repos.length < allRepos.length;
  const all = !limit && hours.length > ALL_HOURS_ABOVE;
  if (repos.length > 0) {
    const p = { db, repos, all: 0, until: FAR_FUTURE };
    await command(
      client,
      'DELETE FROM {db:Identifier}.pr_links WHERE repo IN {repos:Array(String)}',
      p,
    );
    await command(client, reportSql('prelink_pr_links.sql'), p);
    await command(
      client,
      'DELETE FROM {db:Identifier}.pr_state WHERE repo IN {repos:Array(String)}',
      p,
    );
    await command(client, reportSql('prelink_pr_state.sql'), p);
  }
  const p = { db, hours: all ? [] : hours, repos, all: all ? 1 : 0 };
  if (all) await command(client, 'TRUNCATE TABLE {db:Identifier}.usage_linked_hour', p);
  else
    await command(
      client,
      `DELETE FROM {db:Identifier}.usage_linked_hour
       WHERE hour IN {hours:Array(DateTime('UTC'))} OR repo_key IN {repos:Array(String)}`,
      p,
    );
  await command(client, reportSql('prelink_usage.sql'), p);
  // Only the markers read and re-linked: one stored meanwhile, or left by a bounded pass, is kept.
  const doneHours = new Set(hours);
  const doneRepos = new Set(repos);
  const ids = marks
    .filter((m) => (m.kind === 'hour' ? doneHours.has(m.hour) : doneRepos.has(m.repo)))
    .map((m) => m.id);
  await command(client, 'DELETE FROM {db:Identifier}.link_dirty WHERE id IN {ids:Array(UUID)}', {
    db,
    ids,
  });
  return { hours: hours.length, repos: repos.length, all, more };
}

/**
 * Brings usage_linked_hour up to date, then runs `read` with `prelinked` true when the stored links
 * hold for a window ending at `until` (no PR fact dated at or after it), false otherwise (the caller
 * then computes the links as of `until`). `use: false` skips the re-link and always passes false.
 * @example await withPrelinked(client, db, until, (prelinked) => runReport(..., prelinked ? PRELINKED_FRAGMENTS : undefined));
 */
export function withPrelinked<T>(
  client: ClickHouseClient,
  db: string,
  until: string,
  read: (prelinked: boolean) => Promise<T>,
  use = true,
): Promise<T> {
  assertDatabaseName(db);
  if (!use) return read(false);
  return enqueue(client, db, async () => {
    let holds: boolean;
    try {
      // One query in the steady state: anything marked, and does the window end after every fact.
      const [r] = await rows<{ dirty: number | string; ok: number | string }>(
        client,
        `SELECT (SELECT count() FROM {db:Identifier}.link_dirty) AS dirty,
                (SELECT max(at) FROM {db:Identifier}.pr_events) < {until:DateTime64(3, 'UTC')} AS ok`,
        { db, until },
      );
      if (Number(r?.dirty ?? 1) > 0) await relink(client, db);
      holds = Number(r?.ok ?? 0) === 1;
    } catch (err) {
      throw new StoreError(
        'QUERY_FAILED',
        `Re-linking spend to PRs failed: ${messageOf(err)}. Try the report again; nothing stored was lost.`,
        { cause: err, retriable: true },
      );
    }
    return read(holds);
  });
}

/**
 * Re-links what changed now (the same pass a linked report runs first), e.g. after a bulk import.
 * With `limit`, at most that many marked hours and repositories (oldest first): a background pass
 * that keeps the queue short for reports; `more` says marks are left for the next pass.
 * @example await prelinkNow(client, 'harness_meter', { hours: 200, repos: 2 });
 */
export function prelinkNow(
  client: ClickHouseClient,
  db: string,
  limit?: PrelinkLimit,
): Promise<PrelinkPass> {
  assertDatabaseName(db);
  return enqueue(client, db, () => relink(client, db, limit));
}
