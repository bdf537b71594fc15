import { StoreError } from './errors.js';

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

/** Times harness-meter stores and queries: [1970-01-01, 2100-01-01) UTC (inside DateTime and DateTime64). */
export const MIN_STORED_TIME_MS = 0;
export const MAX_STORED_TIME_MS = 4_102_444_800_000;

/**
 * Formats a Date as a ClickHouse DateTime64(3) literal in UTC, for query parameters. Throws
 * StoreError INVALID_ARGUMENT (a 4xx at the HTTP edge) for an invalid date or one outside
 * [1970, 2100), which ClickHouse would refuse or wrap.
 */
export function toClickHouseTime(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms) || ms < MIN_STORED_TIME_MS || ms >= MAX_STORED_TIME_MS)
    throw new StoreError(
      'INVALID_ARGUMENT',
      `The time ${Number.isNaN(ms) ? 'given is not a valid date' : d.toISOString()} is outside 1970-01-01..2100-01-01 UTC.`,
    );
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
