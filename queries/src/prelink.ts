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
import { reportSql } from './report-sql.js';
import { assertDatabaseName, REPO_KEY } from './sql.js';

/** `until` of the stored links: after every PR fact (open PRs end at 2105-12-31). */
const FAR_FUTURE = '2105-12-31 00:00:00.000';

/** More marked hours than this re-link the whole table in one statement (after a bulk load). */
const ALL_HOURS_ABOVE = 2_000;

/**
 * More marked sessions (scans recorded) than this re-link all the waste in one statement: a bulk scan
 * (a detect round takes at most 500) or a backfill of findings. Also the most a bounded pass takes.
 */
const ALL_SESSIONS_ABOVE = 2_000;

/** Marks deleted per statement (ids as a query parameter). */
const MARKS_PER_DELETE = 20_000;

const queues = new WeakMap<ClickHouseClient, Map<string, Promise<unknown>>>();
/** Jobs queued or running per store and database (prelinkBusy). */
const pending = new WeakMap<ClickHouseClient, Map<string, number>>();

/** Runs `job` after the jobs queued before it on this store and database. */
function enqueue<T>(client: ClickHouseClient, db: string, job: () => Promise<T>): Promise<T> {
  let byDb = queues.get(client);
  if (byDb === undefined) {
    byDb = new Map();
    queues.set(client, byDb);
  }
  let counts = pending.get(client);
  if (counts === undefined) {
    counts = new Map();
    pending.set(client, counts);
  }
  const n = counts;
  n.set(db, (n.get(db) ?? 0) + 1);
  const run = (byDb.get(db) ?? Promise.resolve())
    .then(job, job)
    .finally(() => n.set(db, (n.get(db) ?? 1) - 1));
  byDb.set(
    db,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Whether a linked report (its re-link and its read) or a re-link pass is queued or running on this
 * store and database in this process: the detect stage holds its session scans off meanwhile after a
 * bulk load (pipeline/src/detect/runner.ts), so the report's statements do not wait behind them.
 */
export function prelinkBusy(client: ClickHouseClient, db: string): boolean {
  return (pending.get(client)?.get(db) ?? 0) > 0;
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

/**
 * Deletes the rows of `table` that match `where`, if there are any: a lightweight DELETE waits for a
 * mutation of every part of the table even when it matches nothing. For tables only the re-link
 * writes (one at a time, see enqueue), so no row can appear between the check and the DELETE.
 */
async function deleteAny(
  client: ClickHouseClient,
  table: 'pr_links' | 'pr_state',
  where: string,
  params: Record<string, unknown>,
): Promise<void> {
  const [r] = await rows<{ n: number | string }>(
    client,
    `SELECT count() AS n FROM (SELECT 1 FROM {db:Identifier}.${table} WHERE ${where} LIMIT 1)`,
    params,
  );
  if (Number(r?.n ?? 1) > 0)
    await command(client, `DELETE FROM {db:Identifier}.${table} WHERE ${where}`, params);
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

/**
 * What one re-link did: hours, repositories and sessions (waste only) re-linked (`all`: the whole
 * tables; `more`: marks left).
 */
export interface PrelinkPass {
  hours: number;
  repos: number;
  sessions: number;
  all: boolean;
  more: boolean;
}

/** At most this much work in one pass (a background pass); a report's pass re-links everything. */
export interface PrelinkLimit {
  hours: number;
  repos: number;
}

const WASTE_KEYS = `SELECT DISTINCT repo_key, link_pr FROM {db:Identifier}.waste_linked_hour
  WHERE session_id IN {sessions:Array(String)}`;

let lastVersion = 0;
/** Versions of pr_linked_totals rows: increasing in this process (one writer, see above). */
function nextVersion(): number {
  lastVersion = Math.max(lastVersion + 1, Date.now() * 1_000);
  return lastVersion;
}

async function relink(
  client: ClickHouseClient,
  db: string,
  limit?: PrelinkLimit,
): Promise<PrelinkPass> {
  const marks = await rows<{
    id: string;
    kind: string;
    hour: string;
    repo: string;
    session_id: string;
  }>(
    client,
    `SELECT toString(id) AS id, kind, toString(hour) AS hour, repo, session_id FROM {db:Identifier}.link_dirty`,
    { db },
  );
  if (marks.length === 0) return { hours: 0, repos: 0, sessions: 0, all: false, more: false };
  const marked = (kind: string, key: (m: (typeof marks)[number]) => string): string[] =>
    [...new Set(marks.filter((m) => m.kind === kind).map(key))].sort();
  const allHours = marked('hour', (m) => m.hour);
  const allRepos = marked('repo', (m) => m.repo);
  const allSessions = marked('session', (m) => m.session_id);
  // A bounded pass takes the oldest hours and the first repositories; the rest stay marked. Re-linking
  // an hour with a marked repository's old lookups is harmless: that repository is re-linked later.
  const hours = limit ? allHours.slice(0, limit.hours) : allHours;
  const repos = limit ? allRepos.slice(0, limit.repos) : allRepos;
  const sessions = limit ? allSessions.slice(0, ALL_SESSIONS_ABOVE) : allSessions;
  const more =
    hours.length < allHours.length ||
    repos.length < allRepos.length ||
    sessions.length < allSessions.length;
  const all = !limit && hours.length > ALL_HOURS_ABOVE;
  const allWaste = all || (!limit && sessions.length > ALL_SESSIONS_ABOVE);
  if (repos.length > 0) {
    const p = { db, repos, all: 0, until: FAR_FUTURE };
    await deleteAny(client, 'pr_links', 'repo IN {repos:Array(String)}', p);
    await command(client, reportSql('prelink_pr_links.sql'), p);
    await deleteAny(client, 'pr_state', 'repo IN {repos:Array(String)}', p);
    await command(client, reportSql('prelink_pr_state.sql'), p);
  }
  const p = { db, hours: all ? [] : hours, repos, all: all ? 1 : 0 };
  // The PRs whose linked rows change (before and after), for their totals (migration 0023).
  const touched = new Map<string, [string, number]>();
  // Returns how many keys it found: none means the same filter has no rows to delete.
  const touch = async (query: string, params: Record<string, unknown>): Promise<number> => {
    const found = await rows<{ repo_key: string; link_pr: number }>(client, query, params);
    for (const r of found)
      touched.set(`${r.repo_key}\t${String(r.link_pr)}`, [r.repo_key, Number(r.link_pr)]);
    return found.length;
  };
  const usageKeys = `SELECT DISTINCT repo_key, link_pr FROM {db:Identifier}.usage_linked_hour
       WHERE hour IN {hours:Array(DateTime('UTC'))} OR repo_key IN {repos:Array(String)}`;
  if (all) await command(client, 'TRUNCATE TABLE {db:Identifier}.usage_linked_hour', p);
  // A DELETE waits for its mutation over the whole table even when no row matches (about a second
  // at 10M spans): skipped when the keys read just before found no row (only the re-link writes here).
  else if ((await touch(usageKeys, p)) > 0)
    await command(
      client,
      `DELETE FROM {db:Identifier}.usage_linked_hour
       WHERE hour IN {hours:Array(DateTime('UTC'))} OR repo_key IN {repos:Array(String)}`,
      p,
    );
  await command(client, reportSql('prelink_usage.sql'), p);
  if (!all) await touch(usageKeys, p);
  // The waste of the same hours and repositories, and of the sessions scanned again (migration 0020),
  // once spend is re-linked (the waste takes its branch and commit from the link rollup): re-linked by
  // whole sessions, read through the findings' key (session_id), and summed per hour and kind for the
  // waste series (migration 0023; replaced by negated rows, not deleted: prelink_waste_kinds.sql).
  const waste = {
    db,
    all: 0,
    sessions: [] as string[],
    since: '1970-01-01 00:00:00.000',
    until: FAR_FUTURE,
    repo: '',
    team: '',
    developer: '',
  };
  if (allWaste) {
    const w = { ...waste, all: 1 };
    await command(client, 'TRUNCATE TABLE {db:Identifier}.waste_linked_hour', w);
    await command(client, 'TRUNCATE TABLE {db:Identifier}.waste_kind_hour', w);
    await command(client, reportSql('prelink_waste.sql'), w);
    await command(client, reportSql('prelink_waste_kinds.sql'), w);
  } else {
    const found = await sessionsToRelink(client, db, hours, repos, sessions);
    // In slices, so that each statement's session list stays a query parameter of bounded size.
    for (let i = 0; i < found.length; i += ALL_SESSIONS_ABOVE) {
      const w = { ...waste, sessions: found.slice(i, i + ALL_SESSIONS_ABOVE) };
      if ((await touch(WASTE_KEYS, w)) > 0)
        await command(
          client,
          'DELETE FROM {db:Identifier}.waste_linked_hour WHERE session_id IN {sessions:Array(String)}',
          w,
        );
      await command(client, reportSql('prelink_waste.sql'), w);
      await command(client, reportSql('prelink_waste_kinds.sql'), w);
      await touch(WASTE_KEYS, w);
    }
  }
  // A whole re-link (after a bulk load) leaves every PR's totals to the next pass: a 'totals' mark,
  // which also sends cost-per-pr to the hourly rows until then, so the first report after a bulk load
  // does not wait for them.
  if (all || allWaste) {
    await command(client, 'TRUNCATE TABLE {db:Identifier}.pr_linked_totals', { db });
    await command(
      client,
      "INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo) VALUES ('totals', 0, '')",
      { db },
    );
  } else if (marks.some((m) => m.kind === 'totals')) {
    await command(client, 'TRUNCATE TABLE {db:Identifier}.pr_linked_totals', { db });
    await writePrTotals(client, db, true, []);
  } else if (touched.size > 0) await writePrTotals(client, db, false, [...touched.values()]);
  // Only the markers read and re-linked: one stored meanwhile, or left by a bounded pass, is kept.
  const doneHours = new Set(hours);
  const doneRepos = new Set(repos);
  const doneSessions = new Set(sessions);
  const done = (m: (typeof marks)[number]): boolean =>
    m.kind === 'totals'
      ? true
      : m.kind === 'hour'
        ? doneHours.has(m.hour)
        : m.kind === 'session'
          ? doneSessions.has(m.session_id)
          : doneRepos.has(m.repo);
  const ids = marks.filter(done).map((m) => m.id);
  // In slices: after a bulk scan there is one mark per session (hundreds of thousands).
  for (let i = 0; i < ids.length; i += MARKS_PER_DELETE)
    await deleteMarks(client, db, ids.slice(i, i + MARKS_PER_DELETE));
  return { hours: hours.length, repos: repos.length, sessions: sessions.length, all, more };
}

/** Whether this store deletes marks as a lightweight update (see deleteMarks); per client. */
const patchDeletes = new WeakMap<ClickHouseClient, boolean>();

/**
 * Deletes re-linked marks. As a lightweight update (a patch part that reads apply at once, migration
 * 0025) where the store has them: a lightweight DELETE run as a mutation waits for every part of
 * link_dirty to be rewritten (about a second under load, on every pass). `SETTINGS` in the statement,
 * not the client's settings: chDB applies those with SET, for the rest of the session. A store that
 * refuses the setting (a ClickHouse server before 25.7) gets the plain DELETE from then on.
 */
async function deleteMarks(client: ClickHouseClient, db: string, ids: string[]): Promise<void> {
  const del = 'DELETE FROM {db:Identifier}.link_dirty WHERE id IN {ids:Array(UUID)}';
  if (patchDeletes.get(client) !== false) {
    try {
      await command(client, `${del} SETTINGS lightweight_delete_mode = 'lightweight_update'`, {
        db,
        ids,
      });
      patchDeletes.set(client, true);
      return;
    } catch (err) {
      if (patchDeletes.get(client) === true) throw err;
      patchDeletes.set(client, false);
    }
  }
  await command(client, del, { db, ids });
}

/**
 * The sessions whose waste a re-link recomputes: those scanned again, those with spend in a marked
 * hour or repository (their findings take branch and commit from it), and those with findings in a
 * marked hour or of a marked repository. Each read uses a key or a small column: the hour-keyed link
 * rollup, and the findings' Timestamp and repo columns without FINAL (a superset is harmless: a
 * session re-linked again gets the same rows).
 */
async function sessionsToRelink(
  client: ClickHouseClient,
  db: string,
  hours: string[],
  repos: string[],
  sessions: string[],
): Promise<string[]> {
  if (hours.length + repos.length === 0) return sessions;
  const found = await rows<{ session_id: string }>(
    client,
    `SELECT DISTINCT session_id FROM {db:Identifier}.usage_by_link_hour
     WHERE hour IN {hours:Array(DateTime('UTC'))} OR repo_key IN {repos:Array(String)}
     UNION DISTINCT
     SELECT DISTINCT session_id FROM {db:Identifier}.waste_findings
     WHERE toStartOfHour(Timestamp) IN {hours:Array(DateTime('UTC'))}
        OR ${REPO_KEY} IN {repos:Array(String)}`,
    { db, hours, repos },
  );
  return [...new Set([...sessions, ...found.map((r) => r.session_id)])].sort();
}

/**
 * Findings of the hour `until` falls in that lie at or after `until`: waste_linked_hour holds whole
 * hours, so a window ending inside an hour with such findings reads the findings instead (0 when
 * `until` is a whole hour: that hour is outside the window).
 */
const LATE_FINDINGS = `(SELECT count() FROM {db:Identifier}.waste_linked_hour
    WHERE hour = toStartOfHour({until:DateTime64(3, 'UTC')})
      AND toStartOfHour({until:DateTime64(3, 'UTC')}) < {until:DateTime64(3, 'UTC')}
      AND last_at >= {until:DateTime64(3, 'UTC')})`;

/**
 * Extra scalar columns for the re-link check's one query (e.g. `(SELECT …) AS whole`), with the
 * parameters they bind besides `db` and `until`: a report's own cheap question asked in the same
 * statement instead of one more query (each costs chDB about 1.5 ms of CPU before any work).
 */
export interface PrelinkProbe {
  columns: string;
  params: Record<string, unknown>;
}

/** The probe's values, as the check read them; only when nothing was re-linked (see withPrelinked). */
export type ProbeValues = Record<string, number | string | null>;

/**
 * Brings usage_linked_hour and waste_linked_hour up to date, then runs `read` with `prelinked` true
 * when the stored links hold for a window ending at `until` (no PR fact dated at or after it), false
 * otherwise (the caller then computes the links as of `until`), and `wasteLinked` true when the
 * stored waste holds for it too (no finding in the part of `until`'s hour at or after it; otherwise
 * the caller reads the findings, linked through pr_links). `use: false` skips the re-link and always
 * passes false. With `probe`, its columns are read by the same check query and passed to `read` as
 * `probed` when nothing was marked (so nothing was re-linked after they were read, and no mark of any
 * kind is pending); `probed` is undefined when a re-link ran.
 * @example await withPrelinked(client, db, until, (prelinked) => runReport(..., prelinked ? PRELINKED_FRAGMENTS : undefined));
 */
export function withPrelinked<T>(
  client: ClickHouseClient,
  db: string,
  until: string,
  read: (prelinked: boolean, wasteLinked: boolean, probed?: ProbeValues) => Promise<T>,
  use = true,
  probe?: PrelinkProbe,
): Promise<T> {
  assertDatabaseName(db);
  if (!use) return read(false, false);
  return enqueue(client, db, async () => {
    let holds: boolean;
    let late: number;
    let probed: ProbeValues | undefined;
    try {
      // One query in the steady state: anything marked, does the window end after every fact, and
      // does it cut an hour of findings (and the probe's columns).
      const [r] = await rows<ProbeValues>(
        client,
        `SELECT (SELECT count() FROM {db:Identifier}.link_dirty) AS dirty,
                (SELECT max(at) FROM {db:Identifier}.pr_events) < {until:DateTime64(3, 'UTC')} AS ok,
                ${LATE_FINDINGS} AS late${probe === undefined ? '' : `, ${probe.columns}`}`,
        { ...probe?.params, db, until },
      );
      holds = Number(r?.ok ?? 0) === 1;
      late = Number(r?.late ?? 1);
      if (Number(r?.dirty ?? 1) > 0) {
        await relink(client, db);
        const [l] = await rows<{ late: number | string }>(
          client,
          `SELECT ${LATE_FINDINGS} AS late`,
          { db, until },
        );
        late = Number(l?.late ?? 1);
      } else if (probe !== undefined) {
        probed = r;
      }
    } catch (err) {
      throw new StoreError(
        'QUERY_FAILED',
        `Re-linking spend to PRs failed: ${messageOf(err)}. Try the report again; nothing stored was lost.`,
        { cause: err, retriable: true },
      );
    }
    return read(holds, holds && late === 0, probed);
  });
}

/** Writes the totals of the PRs `keys` ([repo_key, pr]), or with `all` of every PR, from their rows. */
async function writePrTotals(
  client: ClickHouseClient,
  db: string,
  all: boolean,
  keys: [string, number][],
): Promise<void> {
  await command(client, reportSql('prelink_pr_totals.sql'), {
    db,
    all: all ? 1 : 0,
    repo_keys: all ? [] : keys.map((k) => k[0]),
    prs: all ? [] : keys.map((k) => k[1]),
    version: nextVersion(),
  });
}

/**
 * Rewrites every PR's totals (pr_linked_totals, migration 0023) from the linked rows, after a writer
 * other than the re-link deleted some of them (demo --reset).
 */
export function rebuildPrTotals(client: ClickHouseClient, db: string): Promise<void> {
  assertDatabaseName(db);
  return enqueue(client, db, async () => {
    await command(client, 'TRUNCATE TABLE {db:Identifier}.pr_linked_totals', { db });
    await writePrTotals(client, db, true, []);
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
