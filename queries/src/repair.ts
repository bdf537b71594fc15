/**
 * Rollup repair after a crash. An INSERT into `spans` feeds the rollups (usage_by_minute,
 * usage_by_link_hour, usage_by_hour) through materialized views, and ClickHouse does not commit the source part and
 * the views' parts atomically: a process killed (kill -9) inside an insert can leave spans stored
 * whose rollup rows are not. The sink never inserts a stored span again, so the gap would stay.
 *
 * At start, before consuming, a writer compares per hour the first versions stored in `spans` with
 * the calls the rollups count, and rebuilds every hour that differs from `spans` (latest version of
 * each span, which equals first versions plus re-price deltas). Measured on the kill -9 fault test:
 * without it, 97 to 300 of 4,000 spans were missing from a rollup after the restart.
 *
 * Bounded: the rollups are known to match the spans when a repair finished and when a writer
 * stopped cleanly (markRollupsClean), both recorded in rollup_checks. A start checks only the monthly
 * partitions with a part of `spans` or of a rollup written since the last such time (a merge counts as
 * written: it only widens the check); with no record (first start after the upgrade), every hour. Re-linked
 * hours are marked for the prelinked reports (link_dirty).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName, REPO_KEY } from './sql.js';

interface Rollup {
  table: string;
  /** Hour bucket of a rollup row. */
  hourOf: string;
  /** The rollup's rows of one set of hours, from `spans` (FINAL: latest versions). */
  rebuild: string;
}

const ROLLUPS: readonly Rollup[] = [
  {
    table: 'usage_by_minute',
    hourOf: 'toStartOfHour(minute)',
    rebuild: `SELECT toStartOfMinute(Timestamp) AS minute, repo, pr, session_id, developer, team, provider, model, source,
        countIf(span_type = 'llm') AS llm_calls, countIf(span_type = 'tool') AS tool_calls,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens, sum(result_tokens) AS tool_result_tokens,
        sum(ifNull(cost_nanos, 0)) AS cost_nanos, toInt64(countIf(unpriced = 1)) AS unpriced_calls,
        countIf(is_error = 1) AS error_calls
      FROM {db:Identifier}.spans FINAL
      WHERE span_type IN ('llm', 'tool') AND toStartOfHour(Timestamp) IN {hours:Array(DateTime('UTC'))}
      GROUP BY minute, repo, pr, session_id, developer, team, provider, model, source`,
  },
  {
    table: 'usage_by_link_hour',
    hourOf: 'hour',
    rebuild: `SELECT toStartOfHour(Timestamp) AS hour, repo, ${REPO_KEY} AS repo_key, branch, commit, pr, session_id,
        developer, team, intent,
        countIf(span_type = 'llm') AS llm_calls, countIf(span_type = 'tool') AS tool_calls,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens, sum(ifNull(cost_nanos, 0)) AS cost_nanos,
        toInt64(countIf(unpriced = 1)) AS unpriced_calls
      FROM {db:Identifier}.spans FINAL
      WHERE span_type IN ('llm', 'tool') AND toStartOfHour(Timestamp) IN {hours:Array(DateTime('UTC'))}
      GROUP BY hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent`,
  },
  {
    table: 'usage_by_hour',
    hourOf: 'hour',
    rebuild: `SELECT toStartOfHour(Timestamp) AS hour, repo, pr, developer, team, provider, model, source,
        countIf(span_type = 'llm') AS llm_calls, countIf(span_type = 'tool') AS tool_calls,
        sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens, sum(result_tokens) AS tool_result_tokens,
        sum(ifNull(cost_nanos, 0)) AS cost_nanos, toInt64(countIf(unpriced = 1)) AS unpriced_calls,
        countIf(is_error = 1) AS error_calls
      FROM {db:Identifier}.spans FINAL
      WHERE span_type IN ('llm', 'tool') AND toStartOfHour(Timestamp) IN {hours:Array(DateTime('UTC'))}
      GROUP BY hour, repo, pr, developer, team, provider, model, source`,
  },
];

export interface RollupRepair {
  /** Rollup table → the hours (ISO) rebuilt because its call count differed from `spans`. */
  rebuilt: Record<string, string[]>;
}

async function rowsOf<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** Partitions of spans (YYYYMM) with a part written since the last check; undefined: no check recorded. */
async function partitionsSinceCheck(
  client: ClickHouseClient,
  db: string,
): Promise<number[] | undefined> {
  const [last] = await rowsOf<{ n: string; at: string }>(
    client,
    `SELECT count() AS n, toString(max(at)) AS at FROM {db:Identifier}.rollup_checks`,
    { db },
  );
  if (last === undefined || Number(last.n) === 0) return undefined;
  const parts = await rowsOf<{ p: string }>(
    client,
    `SELECT DISTINCT partition_id AS p FROM system.parts
     WHERE database = {db:String} AND active
       AND table IN ('spans', 'usage_by_minute', 'usage_by_link_hour', 'usage_by_hour')
       AND modification_time >= toDateTime({at:DateTime64(3, 'UTC')})`,
    { db, at: last.at },
  );
  return parts.map((x) => Number(x.p)).filter((p) => Number.isInteger(p));
}

/**
 * Records that the rollups match the spans now: the sole writer of the store (embedded mode, which
 * holds the folder lock) calls it once it stopped cleanly (its sink closed), so the next start's repair
 * checks only what is written after. Not with several writers (Kafka mode): another one may have
 * crashed meanwhile; their starts record their own repairs.
 */
export async function markRollupsClean(client: ClickHouseClient, db: string): Promise<void> {
  assertDatabaseName(db);
  try {
    await client.command({
      query: `INSERT INTO {db:Identifier}.rollup_checks (at, kind) VALUES (now64(3), 'clean-stop')`,
      query_params: { db },
    });
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `Recording a clean stop failed: ${messageOf(err)}.`, {
      cause: err,
      retriable: true,
    });
  }
}

/**
 * Rebuilds the rollup hours whose call counts differ from the spans stored. Run it before the
 * process starts writing (nothing else may insert into those hours meanwhile).
 */
export async function repairRollups(
  client: ClickHouseClient,
  db: string,
  options: {
    /** Check every hour, whatever was recorded. @default false */
    full?: boolean;
  } = {},
): Promise<RollupRepair> {
  assertDatabaseName(db);
  const rebuilt: Record<string, string[]> = {};
  try {
    const [started] = await rowsOf<{ at: string }>(client, 'SELECT toString(now64(3)) AS at', {});
    const parts = options.full === true ? undefined : await partitionsSinceCheck(client, db);
    const scope = { all: parts === undefined ? 1 : 0, parts: parts ?? [] };
    for (const r of parts?.length === 0 ? [] : ROLLUPS) {
      const rs = await client.query({
        query: `SELECT toString(h) AS hour FROM
                  (SELECT toStartOfHour(Timestamp) AS h, count() AS n FROM {db:Identifier}.spans
                   WHERE span_type IN ('llm', 'tool') AND row_version = 0
                     AND ({all:UInt8} = 1 OR toYYYYMM(Timestamp) IN {parts:Array(UInt32)})
                   GROUP BY h) AS s
                FULL OUTER JOIN
                  (SELECT ${r.hourOf} AS h, sum(llm_calls + tool_calls) AS n FROM {db:Identifier}.${r.table}
                   WHERE {all:UInt8} = 1 OR toYYYYMM(${r.hourOf}) IN {parts:Array(UInt32)}
                   GROUP BY h) AS u
                USING (h)
                WHERE s.n != u.n
                ORDER BY h`,
        query_params: { db, ...scope },
        format: 'JSONEachRow',
      });
      const hours = (await rs.json<{ hour: string }>()).map((x) => x.hour);
      if (hours.length === 0) continue;
      await client.command({
        query: `DELETE FROM {db:Identifier}.${r.table} WHERE ${r.hourOf} IN {hours:Array(DateTime('UTC'))}`,
        query_params: { db, hours },
      });
      await client.command({
        query: `INSERT INTO {db:Identifier}.${r.table} ${r.rebuild}`,
        query_params: { db, hours },
      });
      rebuilt[r.table] = hours.map((h) => `${h.replace(' ', 'T')}Z`);
      if (r.table === 'usage_by_link_hour')
        await client.command({
          query: `INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo)
                  SELECT 'hour', arrayJoin({hours:Array(DateTime('UTC'))}), ''`,
          query_params: { db, hours },
        });
    }
    await client.command({
      query: `INSERT INTO {db:Identifier}.rollup_checks (at, kind) VALUES ({at:DateTime64(3, 'UTC')}, 'start-repair')`,
      query_params: { db, at: started?.at ?? '1970-01-01 00:00:00.000' },
    });
  } catch (err) {
    throw new StoreError(
      'QUERY_FAILED',
      `Checking the rollups against the stored spans failed: ${messageOf(err)}. Start again; nothing was lost from spans.`,
      { cause: err, retriable: true },
    );
  }
  return { rebuilt };
}
