import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { createApiKey } from '../../pipeline/src/auth/index.js';
import { startKafkaPipeline } from '../../pipeline/src/kafka/run.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { gpt4oRequests, kafkaTestConfig, waitFor } from '../helpers/kafka.js';
import { openTempStore } from '../helpers/store.js';

const DB = 'hm_kafka_auth';
let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('kafka-auth'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

describe('API keys in Kafka mode', { timeout: 120_000 }, () => {
  it('ingest checks the key, and a bound key stamps its identity through the topics', async () => {
    const bound = await createApiKey(client, DB, {
      role: 'ingest',
      team: 'payments',
      developer: 'ana',
    });
    const read = await createApiKey(client, DB, { role: 'read' });
    const config = kafkaTestConfig('auth', { database: DB });
    const p = await startKafkaPipeline(config, ['ingest', 'enrich'], silentLogger, { client });
    try {
      const [request] = gpt4oRequests(6, 6, 1, 51);
      const post = (key?: string): Promise<Response> =>
        fetch(`${p.receiver.url}/v1/traces`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(key ? { authorization: `Bearer ${key}` } : {}),
          },
          body: JSON.stringify(request),
        });
      expect((await post()).status).toBe(401);
      expect((await post(read.key)).status).toBe(403);
      expect((await fetch(`${p.receiver.url}/metrics`)).status).toBe(401);
      const ok = await post(bound.key);
      expect(ok.status).toBe(200);
      await waitFor(
        'spans stored',
        async () => {
          const rs = await client.query({
            query: `SELECT count() AS n FROM ${DB}.spans WHERE pr = 51`,
            format: 'JSONEachRow',
          });
          return (await rs.json<{ n: string }>())[0]?.n === '6';
        },
        30_000,
      );
      const rs = await client.query({
        query: `SELECT team, developer, key_id, count() AS n FROM ${DB}.spans WHERE pr = 51 GROUP BY ALL`,
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([
        { team: 'payments', developer: 'ana', key_id: bound.id, n: '6' },
      ]);
    } finally {
      await p.stop();
    }
  });
});
