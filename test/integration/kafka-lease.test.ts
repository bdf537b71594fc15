import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { startKafkaPipeline, type KafkaPipeline } from '../../pipeline/src/kafka/run.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { openTempStore } from '../helpers/store.js';
import { kafkaTestConfig, waitFor } from '../helpers/kafka.js';

const DB = 'hm_kafka_lease';
let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('kafka-lease'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

/** POST /api/v1/alerts/check: 200 from the process that evaluates, 503 from the others. */
async function check(p: KafkaPipeline): Promise<number> {
  const res = await fetch(`${p.receiver.url}/api/v1/alerts/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  await res.arrayBuffer();
  return res.status;
}

describe(
  'leader lease: two enrich processes on one store (real broker, the lease table in chDB)',
  { timeout: 120_000 },
  () => {
    it('only the holder evaluates alerts; when it stops, the other takes over', async () => {
      // HM_LEASE_TTL_MS at its minimum (3 s): the takeover after a release is immediate anyway.
      const config = kafkaTestConfig('lease', { database: DB }, { HM_LEASE_TTL_MS: '3000' });
      const options = { client, lease: true } as const;
      const a = await startKafkaPipeline(config, ['enrich'], silentLogger, {
        ...options,
        leaseHolder: 'process-a',
      });
      let b: KafkaPipeline | undefined;
      try {
        b = await startKafkaPipeline(config, ['enrich'], silentLogger, {
          ...options,
          leaseHolder: 'process-b',
        });
        expect(await check(a)).toBe(200);
        expect(await check(b)).toBe(503);
        const rs = await client.query({
          query: `SELECT holder FROM ${DB}.leases FINAL WHERE name = 'leader'`,
          format: 'JSONEachRow',
        });
        expect(await rs.json()).toEqual([{ holder: 'process-a' }]);
        // Renewals keep it with a past several TTLs.
        await new Promise((r) => setTimeout(r, 4000));
        expect([await check(a), await check(b)]).toEqual([200, 503]);

        await a.stop(); // releases the lease
        const follower = b;
        await waitFor(
          'b to take the lease over',
          async () => (await check(follower)) === 200,
          15_000,
        );
      } finally {
        await a.stop();
        await b?.stop();
      }
    });
  },
);
