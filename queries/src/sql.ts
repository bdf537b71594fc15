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

/** Formats a Date as a ClickHouse DateTime64(3) literal in UTC, for query parameters. */
export function toClickHouseTime(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}
