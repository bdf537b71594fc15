import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  markRollupsClean,
  migrateUp,
  repairRollups,
  type ClickHouseClient,
} from '@harness-meter/queries';
import { createSpanSink } from '../../pipeline/src/sink/sink.js';
import { pricedSpan } from '../helpers/spans.js';
import { openTempStore } from '../helpers/store.js';

const DB = 'hm_repair';
let client: ClickHouseClient;
beforeAll(async () => {
  ({ client } = await openTempStore('repair'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

const at = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const totals = async (): Promise<Record<string, string>> => {
  const rs = await client.query({
    query: `SELECT
              (SELECT toString(sum(llm_calls)) FROM ${DB}.usage_by_minute) AS minute_calls,
              (SELECT toString(sum(cost_nanos)) FROM ${DB}.usage_by_minute) AS minute_cost,
              (SELECT toString(sum(llm_calls)) FROM ${DB}.usage_by_link_hour) AS link_calls,
              (SELECT toString(sum(cost_nanos)) FROM ${DB}.usage_by_link_hour) AS link_cost`,
    format: 'JSONEachRow',
  });
  return (await rs.json<Record<string, string>>())[0] ?? {};
};

describe('rollup repair after a crash inside an insert (real chDB)', () => {
  it('rebuilds exactly the hours whose rollup rows are missing, and nothing when they match', async () => {
    const sink = createSpanSink(client, { db: DB, maxWaitMs: 10 });
    const spans = [10, 11, 12].flatMap((h) =>
      [0, 1].map((i) =>
        pricedSpan({
          spanType: 'llm',
          sessionId: `s${h}`,
          repo: 'https://github.com/acme/api',
          pr: 7,
          inputTokens: 100,
          costNanos: 1_000n + BigInt(h * 10 + i),
          startTimeUnixNano: at(`2026-11-20T${h}:0${i}:00Z`),
        }),
      ),
    );
    await sink.write(spans);
    await sink.close();
    const whole = await totals();
    // 6 calls; cost 1,100 + 1,101 + 1,110 + 1,111 + 1,120 + 1,121 = 6,663 nano-USD
    expect(whole).toEqual({
      minute_calls: '6',
      minute_cost: '6663',
      link_calls: '6',
      link_cost: '6663',
    });
    expect(await repairRollups(client, DB)).toEqual({ rebuilt: {} });

    // What a kill -9 between the spans part and the views' parts leaves: spans without rollup rows.
    await client.command({
      query: `DELETE FROM ${DB}.usage_by_minute WHERE minute = '2026-11-20 11:01:00'`,
    });
    await client.command({
      query: `DELETE FROM ${DB}.usage_by_link_hour WHERE hour = '2026-11-20 12:00:00'`,
    });
    expect(await totals()).toEqual({
      minute_calls: '5',
      minute_cost: '5552',
      link_calls: '4',
      link_cost: '4422',
    });
    expect(await repairRollups(client, DB)).toEqual({
      rebuilt: {
        usage_by_minute: ['2026-11-20T11:00:00Z'],
        usage_by_link_hour: ['2026-11-20T12:00:00Z'],
      },
    });
    expect(await totals()).toEqual(whole);
    expect(await repairRollups(client, DB)).toEqual({ rebuilt: {} });
  });

  it('after a clean stop, checks only the partitions written since; full: true checks every hour', async () => {
    const sink = createSpanSink(client, { db: DB, maxWaitMs: 10 });
    const span = (iso: string, cost: bigint) =>
      pricedSpan({
        spanType: 'llm',
        sessionId: 'b1',
        repo: 'https://github.com/acme/api',
        costNanos: cost,
        startTimeUnixNano: at(iso),
      });
    await sink.write([span('2026-10-05T08:00:00Z', 500n)]);
    await sink.close();
    // An October gap, then a clean stop: the next start does not look at October again.
    await client.command({
      query: `DELETE FROM ${DB}.usage_by_minute WHERE minute = '2026-10-05 08:00:00'`,
    });
    // modification_time has whole seconds: a part of the same second as the mark counts as after it.
    await new Promise((r) => setTimeout(r, 1_100));
    await markRollupsClean(client, DB);
    const later = createSpanSink(client, { db: DB, maxWaitMs: 10 });
    await later.write([span('2026-11-21T09:00:00Z', 700n)]);
    await later.close();
    expect(await repairRollups(client, DB)).toEqual({ rebuilt: {} });
    expect(await repairRollups(client, DB, { full: true })).toEqual({
      rebuilt: { usage_by_minute: ['2026-10-05T08:00:00Z'] },
    });
  });
});
