import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';

/**
 * Runs one SELECT and returns its rows (JSONEachRow). `comment` tags it in system.query_log; a
 * failure is a retriable QUERY_FAILED whose message starts with `failure`.
 */
export async function queryRows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown>,
  comment: string,
  failure: string,
): Promise<T[]> {
  try {
    const rs = await client.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: { log_comment: comment },
    });
    return await rs.json<T>();
  } catch (err) {
    throw new StoreError('QUERY_FAILED', `${failure} failed: ${messageOf(err)}`, {
      cause: err,
      retriable: true,
    });
  }
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Database names are bound as identifiers, and also used in insert targets: keep them plain. */
export function assertDatabaseName(db: string): void {
  if (!IDENT_RE.test(db)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `Invalid ClickHouse database name ${JSON.stringify(db)}: use letters, digits and _ (e.g. harness_meter).`,
    );
  }
}

/** What a DateTime64(3) parameter can hold: [1900-01-01, 2300-01-01) UTC. */
export const MIN_STORED_TIME_MS = -2_208_988_800_000;
export const MAX_STORED_TIME_MS = 10_413_792_000_000;

/**
 * Formats a Date as a ClickHouse DateTime64(3) literal in UTC, for query parameters. Throws
 * StoreError INVALID_ARGUMENT (a 4xx at the HTTP edge) for an invalid date or one outside
 * DateTime64's [1900, 2300), which ClickHouse would refuse or wrap.
 */
export function toClickHouseTime(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms) || ms < MIN_STORED_TIME_MS || ms >= MAX_STORED_TIME_MS)
    throw new StoreError(
      'INVALID_ARGUMENT',
      `The time ${Number.isNaN(ms) ? 'given is not a valid date' : d.toISOString()} is outside 1900-01-01..2300-01-01 UTC.`,
    );
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** The repository key of a `repo` column (as reports/_linked_usage.sql computes it): owner/name, lower case. */
export const REPO_KEY = `lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', ''))`;
