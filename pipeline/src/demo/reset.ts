/**
 * `demo --reset`: removes what the demo stored. Every demo session id starts with
 * `demo-session-` (scenario.ts, spike.ts), and every table that holds spend or findings carries
 * the session id, so the demo's rows are found by it and nothing else is touched. Alert notices
 * the spike raised are kept (they are history, and name a developer, not a session).
 */
import { rebuildPrTotals, type ClickHouseClient } from '@harness-meter/queries';
import type { PostHandler } from '../ingest/server.js';

export const DEMO_SESSION_PREFIX = 'demo-session-';

/** Tables with a session_id column that the demo fills: raw spans, both rollups, findings. */
const DEMO_TABLES = [
  'spans',
  'usage_by_minute',
  'usage_by_link_hour',
  'usage_linked_hour',
  'waste_linked_hour',
  'waste_kind_hour',
  'waste_findings',
  'session_scans',
] as const;

export interface DemoResetResult {
  /** Demo LLM and tool spans removed from `spans`. */
  spans: number;
  tables: string[];
}

/** Deletes the demo's rows (synchronously: the next report no longer sees them). */
export async function resetDemo(client: ClickHouseClient, db: string): Promise<DemoResetResult> {
  const rs = await client.query({
    query: `SELECT count() AS n FROM {db:Identifier}.spans WHERE startsWith(session_id, {prefix:String})`,
    query_params: { db, prefix: DEMO_SESSION_PREFIX },
    format: 'JSONEachRow',
    clickhouse_settings: { log_comment: 'harness-meter demo reset: count' },
  });
  const [row] = await rs.json<{ n: string | number }>();
  for (const table of DEMO_TABLES)
    await client.command({
      query: `ALTER TABLE {db:Identifier}.${table} DELETE WHERE startsWith(session_id, {prefix:String})`,
      query_params: { db, prefix: DEMO_SESSION_PREFIX },
      clickhouse_settings: { mutations_sync: '2', log_comment: 'harness-meter demo reset' },
    });
  // The per-PR totals (no session column) are summed again from what is left.
  await rebuildPrTotals(client, db);
  return { spans: Number(row?.n ?? 0), tables: [...DEMO_TABLES] };
}

/** POST /api/v1/demo/reset on a running server (which holds the store). */
export function demoResetRoute(
  client: ClickHouseClient,
  db: string,
  before: () => Promise<void> = () => Promise.resolve(),
): Record<string, PostHandler> {
  return {
    '/api/v1/demo/reset': async () => {
      await before();
      return { status: 200, body: await resetDemo(client, db) };
    },
  };
}
