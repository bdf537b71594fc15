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

type Seen = { threads: string; comment: string; optimize: string; quote64: string };
const seen = async (settings?: Record<string, string | number>): Promise<Seen> => {
  const rs = await client.query({
    query: `SELECT toString(getSetting('max_threads')) AS threads, toString(getSetting('log_comment')) AS comment,
              toString(getSetting('optimize_on_insert')) AS optimize,
              toString(getSetting('output_format_json_quote_64bit_integers')) AS quote64`,
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
    expect(defaults.optimize).toBe('true');
    // The client's own settings hold for every call (64-bit integers quoted in JSON).
    expect(defaults.quote64).toBe('true');
    const big = await client.query({ query: 'SELECT toUInt64(1) AS n', format: 'JSONEachRow' });
    expect(await big.json()).toEqual([{ n: '1' }]);
    // What the sink's inserts set.
    await client.command({
      query: 'SELECT 1',
      clickhouse_settings: { max_threads: 1, optimize_on_insert: 0, log_comment: 'the sink' },
    });
    expect(await seen({ max_threads: 1 })).toEqual({ ...defaults, threads: '1' });
    expect(await seen()).toEqual(defaults);
    // Again after a query call set them, and with bound parameters in the call.
    expect(await seen({ max_threads: 1, optimize_on_insert: 0 })).toEqual({
      ...defaults,
      threads: '1',
      optimize: 'false',
    });
    const rs = await client.query({
      query: `SELECT toString(getSetting('max_threads')) AS threads, {n:UInt8} AS n`,
      query_params: { n: 7 },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ threads: defaults.threads, n: 7 }]);
    expect(await seen()).toEqual(defaults);
  });

  it("keep the client's own settings when a call changes one, and never SET log_comment", async () => {
    const defaults = await seen();
    expect(await seen({ output_format_json_quote_64bit_integers: 0 })).toEqual({
      ...defaults,
      quote64: 'false',
    });
    const big = await client.query({ query: 'SELECT toUInt64(2) AS n', format: 'JSONEachRow' });
    expect(await big.json()).toEqual([{ n: '2' }]);
    expect(await seen()).toEqual(defaults);
    // chDB keeps no query log, so a log_comment would only cost a SET statement.
    expect((await seen({ log_comment: 'a report' })).comment).toBe('');
  });
});
