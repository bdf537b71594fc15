import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { StoreError, messageOf } from './errors.js';
import { assertDatabaseName, queryRows } from './sql.js';

const sql = (file: string): string =>
  readFileSync(fileURLToPath(new URL(`../reports/${file}`, import.meta.url)), 'utf8');
const STALE_SQL = sql('detect_stale_sessions.sql');
const CALLS_SQL = sql('detect_session_calls.sql');

/** One stored span of a session, as the redundancy rules read it. */
export interface SessionCallRow {
  span_id: string;
  trace_id: string;
  /** ns since the epoch, decimal string */
  at: string;
  /** ns since the epoch, decimal string */
  end_at: string;
  ts: string;
  span_type: string;
  tool_name: string;
  tool_class: string;
  args_hash: string;
  target_hash: string;
  result_tokens: number;
  is_error: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  provider: string;
  model: string;
  repo: string;
  pr: number;
  developer: string;
  team: string;
  range_start: string;
  range_end: string;
  result_hash: string;
  compaction: string;
  before_hash: string;
  after_hash: string;
  /** Comma-separated sha256 hashes ('' when none). */
  target_hashes: string;
  /** 'none' | 'paths' | 'all' for classified shell runs; '' otherwise. */
  mutates: string;
  /** Comma-separated sha256 hashes ('' when none). */
  touches: string;
  /** 'true' when the failure looked transient. */
  transient: string;
  ingested_at: string;
}

/** A finding row of `waste_findings`. */
export interface WasteFindingRow {
  session_id: string;
  span_id: string;
  trace_id: string;
  scan_id: number;
  Timestamp: string;
  kind: string;
  repeats_span_id: string;
  tool_name: string;
  mcp_server: string;
  repo: string;
  pr: number;
  developer: string;
  team: string;
  result_tokens: number;
  issue_tokens: number;
  wasted_tokens: number;
  direct_cost_nanos: string;
  carried_tokens: number;
  carried_cost_nanos: string;
  loop_length: number;
  fully_priced: number;
}

const rows = <T>(
  client: ClickHouseClient,
  what: string,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> => queryRows<T>(client, query, params, `harness-meter ${what}`, what);

/** Sessions idle for `idleMs` with spans newer than their last scan (newest-idle last), at most `limit`. */
export async function staleSessions(
  client: ClickHouseClient,
  db: string,
  opts: { idleMs: number; days?: number; limit?: number },
): Promise<string[]> {
  assertDatabaseName(db);
  const r = await rows<{ session_id: string }>(client, 'detect stale sessions', STALE_SQL, {
    db,
    idle_ms: opts.idleMs,
    days: opts.days ?? 30,
    limit: opts.limit ?? 1000,
  });
  return r.map((x) => x.session_id);
}

export async function sessionCalls(
  client: ClickHouseClient,
  db: string,
  session: string,
): Promise<SessionCallRow[]> {
  assertDatabaseName(db);
  const r = await rows<SessionCallRow>(client, 'detect session calls', CALLS_SQL, { db, session });
  return r.map((x) => ({
    ...x,
    result_tokens: Number(x.result_tokens),
    output_tokens: Number(x.output_tokens),
    cache_read_tokens: Number(x.cache_read_tokens),
    pr: Number(x.pr),
    is_error: Number(x.is_error),
  }));
}

/** Stores one scan of a session: its findings, then the scan record that makes them current. */
export async function writeScan(
  client: ClickHouseClient,
  db: string,
  scan: {
    session: string;
    scanId: number;
    lastIngestedAt: string;
    spans: number;
    findings: WasteFindingRow[];
  },
): Promise<void> {
  assertDatabaseName(db);
  try {
    if (scan.findings.length > 0)
      await client.insert({
        table: `${db}.waste_findings`,
        values: scan.findings,
        format: 'JSONEachRow',
      });
    await client.insert({
      table: `${db}.session_scans`,
      values: [
        {
          session_id: scan.session,
          scan_id: scan.scanId,
          last_ingested_at: scan.lastIngestedAt,
          spans: scan.spans,
          findings: scan.findings.length,
        },
      ],
      format: 'JSONEachRow',
    });
  } catch (err) {
    throw new StoreError(
      'QUERY_FAILED',
      `Storing findings of session ${scan.session} failed: ${messageOf(err)}`,
      { cause: err, retriable: true },
    );
  }
}
