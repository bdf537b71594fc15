import type { ClickHouseClient } from './client.js';
import { runReport } from './reports.js';
import { assertDatabaseName } from './sql.js';

/**
 * The sessions among `sessions` that the store already has from an agent's OTLP events (not from
 * a transcript import): the transcript importer skips them, so no session is counted twice.
 */
export async function otlpSessions(
  client: ClickHouseClient,
  db: string,
  sessions: readonly string[],
): Promise<Set<string>> {
  assertDatabaseName(db);
  if (sessions.length === 0) return new Set();
  const rows = await runReport(client, 'otlp-sessions', 'otlp_sessions.sql', {
    db,
    sessions: [...sessions],
  });
  return new Set(rows.map((r) => String(r.session_id ?? '')));
}
