import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadMigrations,
  migrateUp,
  staleSessions,
  writeScan,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { openTempStore } from '../helpers/store.js';

/** The detect stage's listing of stale sessions, read from session_activity (migration 0018). */
const DB = 'hm_stale';
let client: ClickHouseClient;

const insertSpans = (session: string, n: number, ingestedAt: string): Promise<unknown> =>
  client.command({
    query: `INSERT INTO {db:Identifier}.spans (Timestamp, TraceId, SpanId, span_type, session_id, ingested_at)
            SELECT now64(9), {session:String}, concat({session:String}, '-', toString(number), '-', {at:String}),
                   'tool', {session:String}, {at:DateTime64(3, 'UTC')}
            FROM numbers({n:UInt32})`,
    query_params: { db: DB, session, n, at: ingestedAt },
  });
const ago = (ms: number): string =>
  new Date(Date.now() - ms).toISOString().replace('T', ' ').replace('Z', '');

beforeAll(async () => {
  ({ client } = await openTempStore('stale-sessions'));
  // Spans stored before the migration are listed too (its backfill).
  await migrateUp(
    client,
    DB,
    loadMigrations().filter((m) => m.version < 18),
  );
  await insertSpans('old', 3, ago(120_000));
  await migrateUp(client, DB);
});

afterAll(async () => {
  await client.close();
});

describe('stale sessions (session_activity)', () => {
  it('lists idle sessions with spans newer than their last scan, oldest first', async () => {
    await insertSpans('a', 5, ago(90_000));
    await insertSpans('a', 2, ago(80_000));
    await insertSpans('busy', 4, ago(1_000));
    await insertSpans('', 4, ago(90_000));
    expect(await staleSessions(client, DB, { idleMs: 60_000 })).toEqual(['old', 'a']);
    expect(await staleSessions(client, DB, { idleMs: 0 })).toEqual(['old', 'a', 'busy']);
    expect(await staleSessions(client, DB, { idleMs: 0, limit: 1 })).toEqual(['old']);

    await writeScan(client, DB, {
      session: 'a',
      scanId: 1,
      lastIngestedAt: ago(80_000),
      spans: 7,
      findings: [],
    });
    expect(await staleSessions(client, DB, { idleMs: 60_000 })).toEqual(['old']);
    // A span after the scan makes the session stale again once it is idle.
    await insertSpans('a', 1, ago(70_000));
    expect(await staleSessions(client, DB, { idleMs: 60_000 })).toEqual(['old', 'a']);
  });
});
