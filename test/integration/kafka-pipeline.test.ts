import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costPerPr, migrateUp, type ClickHouseClient } from '@harness-meter/queries';
import { encodeTraceRequestProtobuf } from '../../pipeline/src/decode/index.js';
import { startKafkaPipeline } from '../../pipeline/src/kafka/run.js';
import { silentLogger } from '../../pipeline/src/logger.js';
import { openTempStore } from '../helpers/store.js';
import {
  gpt4oRequests,
  GPT4O_SPAN_NANOS,
  kafkaTestConfig,
  readTopic,
  testKafka,
  waitFor,
} from '../helpers/kafka.js';

const DB = 'hm_kafka_inproc';
const window = { since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 60_000) };
let client: ClickHouseClient;

beforeAll(async () => {
  ({ client } = await openTempStore('kafka-inproc'));
  await migrateUp(client, DB);
});
afterAll(async () => {
  await client.close();
});

async function prTotals(pr: number): Promise<{ llm: number; cost: string } | undefined> {
  const row = (await costPerPr(client, { db: DB, ...window })).find((r) => r.pr === pr);
  return row ? { llm: row.llm_calls, cost: row.cost_nanos } : undefined;
}
async function storedSpans(pr: number): Promise<number> {
  const rs = await client.query({
    query: `SELECT count() AS n, uniqExact(TraceId, SpanId) AS u FROM ${DB}.spans WHERE pr = {pr:UInt32}`,
    query_params: { pr },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: string; u: string }>();
  expect(row?.n).toBe(row?.u); // never a duplicate row
  return Number(row?.n ?? 0);
}

/** A ClickHouse client that fails every insert and query while `down` is set: ClickHouse unavailable. */
function flaky(real: ClickHouseClient): {
  client: ClickHouseClient;
  setDown: (d: boolean) => void;
  failures: () => number;
} {
  let down = false;
  let failures = 0;
  const fail = (): never => {
    failures++;
    throw Object.assign(
      new Error('connect ECONNREFUSED 127.0.0.1:8123 (injected: ClickHouse down)'),
      { code: 'ECONNREFUSED' },
    );
  };
  const proxy = new Proxy(real, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if ((prop === 'insert' || prop === 'query') && typeof value === 'function') {
        return (...args: unknown[]) =>
          down
            ? Promise.resolve().then(fail)
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      }
      return value;
    },
  });
  return { client: proxy, setDown: (d) => void (down = d), failures: () => failures };
}

describe(
  'Kafka pipeline against a real broker (stages in this process, ClickHouse via chDB)',
  { timeout: 120_000 },
  () => {
    it('consumes the bytes the Collector Kafka exporter writes (otlp_proto), and HTTP ingest through Kafka', async () => {
      const config = kafkaTestConfig('collector', { database: DB });
      const p = await startKafkaPipeline(config, ['ingest', 'enrich'], silentLogger, { client });
      try {
        // What the Collector's kafkaexporter writes: one serialized ExportTraceServiceRequest per message, no key.
        const producer = testKafka().producer();
        await producer.connect();
        const [collectorRequest] = gpt4oRequests(20, 20, 2, 11);
        await producer.send({
          topic: config.kafka.otlpSpansTopic,
          acks: -1,
          messages: [{ value: Buffer.from(encodeTraceRequestProtobuf(collectorRequest!)) }],
        });
        await producer.disconnect();
        // And harness-meter's own receiver, JSON in, otlp_proto out.
        const [httpRequest] = gpt4oRequests(10, 10, 1, 12);
        const res = await fetch(`${p.receiver.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(httpRequest),
        });
        expect(res.status).toBe(200);
        await waitFor(
          'both PRs stored',
          async () => (await storedSpans(11)) === 20 && (await storedSpans(12)) === 10,
          30_000,
        );
        expect(await prTotals(11)).toEqual({ llm: 20, cost: (20n * GPT4O_SPAN_NANOS).toString() });
        expect(await prTotals(12)).toEqual({ llm: 10, cost: (10n * GPT4O_SPAN_NANOS).toString() });
        const raw = await readTopic(config.kafka.otlpSpansTopic, 2);
        expect(raw.map((m) => m.value?.length ?? 0).every((n) => n > 0)).toBe(true);
        const metrics = await (await fetch(`${p.receiver.url}/metrics`)).text();
        expect(metrics).toMatch(/harness_meter_spans_stored_total 30/);
        expect(metrics).toMatch(/harness_meter_consumer_lag_messages\{group="[^"]+-enrich"/);
      } finally {
        await p.stop();
      }
    });

    it("carries agents' own log events through the logs topic (Claude Code)", async () => {
      const config = kafkaTestConfig('logs', { database: DB });
      const p = await startKafkaPipeline(config, ['ingest', 'enrich'], silentLogger, { client });
      try {
        const fixture = readFileSync(
          new URL('../fixtures/agents/claude-code-logs.json', import.meta.url),
          'utf8',
        );
        const res = await fetch(`${p.receiver.url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: fixture,
        });
        expect(res.status).toBe(200);
        expect((await readTopic(config.kafka.otlpLogsTopic, 1)).length).toBe(1);
        await waitFor(
          'the Claude Code session stored',
          async () => {
            const rs = await client.query({
              query: `SELECT count() AS n, toString(sum(cost_nanos)) AS c FROM ${DB}.spans FINAL WHERE session_id = 'cc-session-1' AND span_type = 'llm'`,
              format: 'JSONEachRow',
            });
            const [row] = await rs.json<{ n: string; c: string }>();
            return row?.n === '2' && row.c === '27000000';
          },
          30_000,
        );
      } finally {
        await p.stop();
      }
    });

    it("carries agents' usage metrics through the metrics topic, and exports the lag of every raw topic", async () => {
      const config = kafkaTestConfig('metrics', { database: DB });
      const p = await startKafkaPipeline(config, ['ingest', 'enrich'], silentLogger, { client });
      try {
        const body = JSON.stringify({
          resourceMetrics: [
            {
              resource: {
                attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }],
              },
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'claude_code.token.usage',
                      sum: {
                        aggregationTemporality: 2,
                        isMonotonic: true,
                        dataPoints: ['input', 'output'].map((type, i) => ({
                          startTimeUnixNano: '1763974700000000000',
                          timeUnixNano: '1763974805000000000',
                          asDouble: 300 + i,
                          attributes: [
                            { key: 'session.id', value: { stringValue: 'kafka-metrics-1' } },
                            { key: 'model', value: { stringValue: 'claude-sonnet-4-5' } },
                            { key: 'type', value: { stringValue: type } },
                          ],
                        })),
                      },
                    },
                  ],
                },
              ],
            },
          ],
        });
        // Twice: a redelivered or re-sent point is one row.
        for (let i = 0; i < 2; i++) {
          const res = await fetch(`${p.receiver.url}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          expect(res.status).toBe(200);
        }
        const [written] = await readTopic(config.kafka.otlpMetricsTopic, 2);
        expect(written?.headers?.['hm-otlp-encoding']?.toString()).toBe('json');
        await waitFor(
          'the metric points stored',
          async () => {
            const rs = await client.query({
              query: `SELECT token_type, toString(value) AS v FROM ${DB}.agent_metric_points FINAL WHERE session_id = 'kafka-metrics-1' ORDER BY token_type`,
              format: 'JSONEachRow',
            });
            const rows = await rs.json<{ token_type: string; v: string }>();
            return rows.length === 2 ? rows : undefined;
          },
          30_000,
        ).then((rows) =>
          expect(rows).toEqual([
            { token_type: 'input', v: '300' },
            { token_type: 'output', v: '301' },
          ]),
        );
        const text = await (await fetch(`${p.receiver.url}/metrics`)).text();
        for (const topic of [
          config.kafka.otlpSpansTopic,
          config.kafka.otlpLogsTopic,
          config.kafka.otlpMetricsTopic,
          config.kafka.sessionSpansTopic,
        ])
          expect(text).toContain(`topic="${topic}"`);
      } finally {
        await p.stop();
      }
    });

    it('sends a poison message to the dead-letter topic with its reason and bytes, and processes everything after it', async () => {
      // Written as for a rolling upgrade (HM_KAFKA_SESSION_FORMAT=2: what older enrich processes read).
      const config = kafkaTestConfig('poison', { database: DB }, { HM_KAFKA_SESSION_FORMAT: '2' });
      const p = await startKafkaPipeline(config, ['enrich'], silentLogger, { client });
      try {
        const producer = testKafka().producer();
        await producer.connect();
        const [before, after] = gpt4oRequests(10, 5, 1, 21);
        const poison = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
        // One partition keeps the order: good, poison, good.
        for (const value of [
          encodeTraceRequestProtobuf(before!),
          poison,
          encodeTraceRequestProtobuf(after!),
        ]) {
          await producer.send({
            topic: config.kafka.otlpSpansTopic,
            acks: -1,
            messages: [{ value: Buffer.from(value), partition: 0 }],
          });
        }
        await producer.disconnect();
        await waitFor(
          'spans after the poison message',
          async () => (await storedSpans(21)) === 10,
          30_000,
        );
        // A session-topic message from a newer version than this one: dead-lettered, saying why.
        const newer = Buffer.from('{"v":4,"spans":[]}');
        const late = testKafka().producer();
        await late.connect();
        await late.send({
          topic: config.kafka.sessionSpansTopic,
          acks: -1,
          messages: [{ key: 'newer', value: newer }],
        });
        await late.disconnect();
        const deadLetters = await readTopic(config.kafka.deadLetterTopic, 2);
        const dead = deadLetters.find((m) => m.value?.equals(poison));
        expect(dead?.headers?.['hm.dlq.reason']?.toString()).toMatch(
          /not a valid protobuf ExportTraceServiceRequest/,
        );
        expect(dead?.headers?.['hm.dlq.source.topic']?.toString()).toBe(
          config.kafka.otlpSpansTopic,
        );
        const fromEnrich = deadLetters.find((m) => m.value?.equals(newer));
        expect(fromEnrich?.headers?.['hm.dlq.reason']?.toString()).toMatch(
          /unknown session-topic message version 4 .*upgrade every enrich process/,
        );
        expect(fromEnrich?.headers?.['hm.dlq.source.topic']?.toString()).toBe(
          config.kafka.sessionSpansTopic,
        );
        const metrics = await waitFor(
          'both dead letters counted',
          async () => {
            const text = await p.metrics.render();
            return text.includes('dead_letters_total{stage="enrich"}') ? text : undefined;
          },
          10_000,
        );
        expect(metrics).toMatch(/harness_meter_dead_letters_total\{stage="repartition"\} 1/);
        expect(metrics).toMatch(/harness_meter_dead_letters_total\{stage="enrich"\} 1/);
      } finally {
        await p.stop();
      }
    });

    it('a bad span goes to the dead-letter topic alone, with its reason; its request-mates are stored', async () => {
      const config = kafkaTestConfig('badspan', { database: DB });
      const p = await startKafkaPipeline(config, ['enrich'], silentLogger, { client });
      try {
        const [request] = gpt4oRequests(5, 5, 1, 23);
        const spans = request!.resourceSpans![0]!.scopeSpans![0]!.spans!;
        const bad = spans[2]!;
        bad.attributes = bad.attributes!.map((kv) =>
          kv.key === 'gen_ai.usage.input_tokens' ? { key: kv.key, value: { intValue: '-5' } } : kv,
        );
        const producer = testKafka().producer();
        await producer.connect();
        await producer.send({
          topic: config.kafka.otlpSpansTopic,
          acks: -1,
          messages: [{ value: Buffer.from(encodeTraceRequestProtobuf(request!)), partition: 0 }],
        });
        await producer.disconnect();
        await waitFor('the four good spans', async () => (await storedSpans(23)) === 4, 30_000);
        const [dead] = await readTopic(config.kafka.deadLetterTopic, 1);
        const sample = JSON.parse(dead?.value?.toString() ?? '{}') as { spanId?: string };
        expect(sample.spanId).toBe(bad.spanId);
        expect(dead?.headers?.['hm.dlq.reason']?.toString()).toContain(
          'gen_ai.usage.input_tokens="-5" is not a count',
        );
      } finally {
        await p.stop();
      }
    });

    it('ClickHouse unavailable for a few seconds mid-stream: nothing lost, nothing doubled', async () => {
      const config = kafkaTestConfig('chdown', { database: DB });
      const f = flaky(client);
      const p = await startKafkaPipeline(config, ['enrich'], silentLogger, { client: f.client });
      try {
        const producer = testKafka().producer();
        await producer.connect();
        const requests = gpt4oRequests(300, 10, 6, 31);
        await producer.send({
          topic: config.kafka.otlpSpansTopic,
          acks: -1,
          messages: requests
            .slice(0, 10)
            .map((r) => ({ value: Buffer.from(encodeTraceRequestProtobuf(r)) })),
        });
        await waitFor('first spans stored', async () => (await storedSpans(31)) > 0, 30_000);
        f.setDown(true);
        await producer.send({
          topic: config.kafka.otlpSpansTopic,
          acks: -1,
          messages: requests
            .slice(10)
            .map((r) => ({ value: Buffer.from(encodeTraceRequestProtobuf(r)) })),
        });
        await waitFor('inserts failing', async () => f.failures() >= 3, 20_000);
        await new Promise((r) => setTimeout(r, 2000));
        f.setDown(false);
        await producer.disconnect();
        await waitFor('all 300 spans stored', async () => (await storedSpans(31)) === 300, 60_000);
        expect(await prTotals(31)).toEqual({
          llm: 300,
          cost: (300n * GPT4O_SPAN_NANOS).toString(),
        });
        expect(await p.metrics.render()).toMatch(
          /harness_meter_retries_total\{stage="clickhouse insert"\} [1-9]/,
        );
      } finally {
        await p.stop();
      }
    });

    it('two enrich consumers in one group; one stops mid-stream: nothing lost, nothing doubled', async () => {
      const config = kafkaTestConfig('twogroup', { database: DB });
      const a = await startKafkaPipeline(config, ['enrich'], silentLogger, { client });
      const b = await startKafkaPipeline(config, ['enrich'], silentLogger, { client });
      let stoppedA = false;
      try {
        const producer = testKafka().producer();
        await producer.connect();
        const requests = gpt4oRequests(600, 10, 12, 41);
        for (let i = 0; i < requests.length; i += 10) {
          await producer.send({
            topic: config.kafka.otlpSpansTopic,
            acks: -1,
            messages: requests
              .slice(i, i + 10)
              .map((r) => ({ value: Buffer.from(encodeTraceRequestProtobuf(r)) })),
          });
          if (i === 20) {
            await waitFor('some spans stored', async () => (await storedSpans(41)) > 0, 30_000);
            await a.stop(); // leaves the group after finishing and committing its in-flight batches
            stoppedA = true;
          }
        }
        await producer.disconnect();
        await waitFor('all 600 spans stored', async () => (await storedSpans(41)) === 600, 60_000);
        expect(await prTotals(41)).toEqual({
          llm: 600,
          cost: (600n * GPT4O_SPAN_NANOS).toString(),
        });
      } finally {
        if (!stoppedA) await a.stop();
        await b.stop();
      }
    });
  },
);
