import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@harness-meter/queries';
import { openTempStore } from '../helpers/store.js';

let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('store-settings'));
});
afterAll(async () => {
  await client.close();
});

type Seen = { threads: string; comment: string; optimize: string };
const seen = async (settings?: Record<string, string | number>): Promise<Seen> => {
  const rs = await client.query({
    query: `SELECT toString(getSetting('max_threads')) AS threads, toString(getSetting('log_comment')) AS comment,
              toString(getSetting('optimize_on_insert')) AS optimize`,
    format: 'JSONEachRow',
    ...(settings ? { clickhouse_settings: settings } : {}),
  });
  const [row] = await rs.json<Seen>();
  if (!row) throw new Error('no row');
  return row;
};

describe('per-call settings on chDB (real engine)', () => {
  it('apply to their own call and not to the calls after it', async () => {
    const defaults = await seen();
    expect(defaults.comment).toBe('');
    // What the sink's inserts and a report's log_comment set.
    await client.command({
      query: 'SELECT 1',
      clickhouse_settings: { max_threads: 1, optimize_on_insert: 0, log_comment: 'the sink' },
    });
    expect(await seen({ max_threads: 1, log_comment: 'mine' })).toEqual({
      threads: '1',
      comment: 'mine',
      optimize: defaults.optimize,
    });
    expect(await seen()).toEqual(defaults);
    // Again after a query call set them, and with bound parameters in the call.
    await seen({ max_threads: 1, optimize_on_insert: 0 });
    const rs = await client.query({
      query: `SELECT toString(getSetting('max_threads')) AS threads, {n:UInt8} AS n`,
      query_params: { n: 7 },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ threads: defaults.threads, n: 7 }]);
    expect(await seen()).toEqual(defaults);
  });
});
