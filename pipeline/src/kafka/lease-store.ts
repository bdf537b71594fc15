import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@harness-meter/queries';
import type { LeaseRecord, LeaseStore } from './lease.js';

/** The name of the lease that guards alert evaluation and the start-up rollup repair. */
export const LEADER_LEASE = 'leader';

/** This process's holder id: host, pid and a random suffix (a restarted process is a new holder). */
export function leaseHolderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Leases in `<db>.leases` (migration 0017): a ReplacingMergeTree by name, read with FINAL. */
export function clickHouseLeaseStore(client: ClickHouseClient, db: string): LeaseStore {
  return {
    async read(name) {
      const rs = await client.query({
        query: `SELECT holder, toUnixTimestamp64Milli(expires_at) AS e, version AS v
                FROM {db:Identifier}.leases FINAL WHERE name = {name:String}`,
        query_params: { db, name },
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter lease read' },
      });
      const [row] = await rs.json<{ holder: string; e: string | number; v: string | number }>();
      return row
        ? ({
            holder: row.holder,
            expiresAtMs: Number(row.e),
            version: Number(row.v),
          } satisfies LeaseRecord)
        : undefined;
    },
    async write(name, r) {
      await client.insert({
        table: `${db}.leases`,
        values: [
          {
            name,
            holder: r.holder,
            expires_at: new Date(r.expiresAtMs).toISOString().replace('T', ' ').replace('Z', ''),
            version: r.version,
          },
        ],
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter lease write' },
      });
    },
  };
}
