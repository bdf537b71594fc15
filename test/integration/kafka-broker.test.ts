/**
 * The real broker of test/setup/kafka.ts (Kafka 4.x, KRaft) with the kafkajs 2.2.4 the pipeline
 * uses: protocol versions, produce with acks=all, consumer groups, committed offsets.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const brokers = inject('kafkaBrokers').split(',');
const kafka = new Kafka({ clientId: 'hm-broker-test', brokers, logLevel: logLevel.NOTHING });
const run = `${Date.now()}-${randomBytes(3).toString('hex')}`;
const topics: string[] = [];
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
  await admin.disconnect();
});

async function newTopic(label: string): Promise<string> {
  const topic = `hm-broker-${label}-${run}`;
  topics.push(topic);
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
    timeout: 10_000,
  });
  expect(created).toBe(true);
  return topic;
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sum of a group's committed offsets on a topic (-1, nothing committed, counts as 0). */
async function committed(groupId: string, topic: string): Promise<number> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return (t?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
}

interface Got {
  partition: number;
  key: string;
  value: string;
  offset: string;
}
const got = (partition: number, m: KafkaMessage): Got => ({
  partition,
  key: m.key?.toString() ?? '',
  value: m.value?.toString() ?? '',
  offset: m.offset,
});

/** The broker's [min, max] per API key, from a raw ApiVersions v0 request (no client library). */
async function brokerApiVersions(): Promise<Map<number, [number, number]>> {
  const [host, port] = (brokers[0] ?? '').split(':');
  const clientId = Buffer.from('hm-api-versions');
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  req.writeInt32BE(req.length - 4, 0);
  req.writeInt16BE(18, 4); // ApiVersions
  req.writeInt16BE(0, 6); // v0
  req.writeInt32BE(7, 8); // correlation id
  req.writeInt16BE(clientId.length, 12);
  clientId.copy(req, 14);
  const res = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host: host ?? '127.0.0.1', port: Number(port) });
    let buf = Buffer.alloc(0);
    socket.setTimeout(5_000, () => socket.destroy(new Error('ApiVersions: no answer in 5 s')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(req));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        socket.end();
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)));
      }
    });
  });
  expect(res.readInt32BE(0)).toBe(7);
  expect(res.readInt16BE(4)).toBe(0); // error code
  const out = new Map<number, [number, number]>();
  const n = res.readInt32BE(6);
  for (let i = 0; i < n; i++) {
    const at = 10 + i * 6;
    out.set(res.readInt16BE(at), [res.readInt16BE(at + 2), res.readInt16BE(at + 4)]);
  }
  return out;
}

describe('a real Kafka broker with kafkajs 2.2.4', () => {
  it('serves every API kafkajs implements at the version kafkajs picks', async () => {
    // kafkajs asks for min(newest it implements, broker's newest) and never checks the broker's
    // minimum (src/protocol/requests/index.js): Kafka 4.0 removed old versions (KIP-896).
    const require = createRequire(import.meta.url);
    const { requests } = require('kafkajs/src/protocol/requests') as {
      requests: Record<string, { versions: string[] }>;
    };
    const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;
    const served = await brokerApiVersions();
    const broken: string[] = [];
    const picked: Record<string, number> = {};
    for (const [name, def] of Object.entries(requests)) {
      if (def.versions.length === 0) continue; // not implemented by kafkajs
      const key = apiKeys[name];
      const range = key === undefined ? undefined : served.get(key);
      if (!range) continue; // kafkajs reports an API the broker lacks as unsupported, cleanly
      const v = Math.min(Math.max(...def.versions.map(Number)), range[1]);
      picked[name] = v;
      if (v < range[0]) broken.push(`${name}: kafkajs v${v}, broker ${range[0]}-${range[1]}`);
    }
    expect(broken).toEqual([]);
    // What the pipeline depends on is served at all.
    for (const name of [
      'ApiVersions',
      'Metadata',
      'CreateTopics',
      'Produce',
      'Fetch',
      'ListOffsets',
      'GroupCoordinator',
      'JoinGroup',
      'SyncGroup',
      'Heartbeat',
      'LeaveGroup',
      'OffsetCommit',
      'OffsetFetch',
    ])
      expect(picked[name], name).toBeTypeOf('number');
  });

  it('100 keyed messages produced with acks=all are consumed by a group exactly once, each key on one partition', async () => {
    const topic = await newTopic('keyed');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const messages = Array.from({ length: 100 }, (_, i) => ({
        key: `key-${i % 17}`,
        value: `message-${i}`,
      }));
      const sent = await producer.send({ topic, acks: -1, messages });
      expect(sent.every((r) => r.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }
    const high = await admin.fetchTopicOffsets(topic);
    expect(high.reduce((s, p) => s + Number(p.high), 0)).toBe(100);

    const groupId = `hm-broker-keyed-${run}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    const seen: Got[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => void seen.push(got(partition, message)),
      });
      await until('100 messages', () => seen.length >= 100, 30_000);
      // The group commits what it consumed (admin fetchOffsets = OffsetFetch).
      await until(
        'the group to commit offset 100',
        async () => (await committed(groupId, topic)) === 100,
        15_000,
      );
      await sleep(500); // a redelivery would show up here
    } finally {
      await consumer.disconnect();
    }

    expect(seen).toHaveLength(100);
    expect(new Set(seen.map((m) => m.value)).size).toBe(100);
    expect(new Set(seen.map((m) => `${m.partition}/${m.offset}`)).size).toBe(100);
    const partitionsOfKey = new Map<string, Set<number>>();
    for (const m of seen)
      partitionsOfKey.set(m.key, (partitionsOfKey.get(m.key) ?? new Set()).add(m.partition));
    expect(partitionsOfKey.size).toBe(17);
    for (const [key, parts] of partitionsOfKey) expect([...parts], key).toHaveLength(1);
    expect(new Set(seen.map((m) => m.partition)).size).toBeGreaterThan(1); // keys spread out
    // Within a partition, messages arrive in the order they were produced.
    for (const p of [0, 1, 2]) {
      const order = seen.filter((m) => m.partition === p).map((m) => Number(m.value.slice(8)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 60_000);

  it('a second consumer of the group resumes after the offsets the first one committed', async () => {
    const topic = await newTopic('resume');
    const groupId = `hm-broker-resume-${run}`;
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const produce = async (from: number, n: number): Promise<void> => {
      const messages = Array.from({ length: n }, (_, i) => ({
        key: `k-${(from + i) % 5}`,
        value: `m-${from + i}`,
      }));
      await producer.send({ topic, acks: -1, messages });
    };

    const consume = async (
      label: string,
      want: number,
    ): Promise<{ seen: Got[]; consumer: Consumer }> => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
      const seen: Got[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(got(partition, message));
          // Commit after processing each message: the next offset to read.
          await consumer.commitOffsets([
            { topic, partition, offset: String(Number(message.offset) + 1) },
          ]);
        },
      });
      await until(`${label}: ${want} messages`, () => seen.length >= want, 30_000);
      return { seen, consumer };
    };

    try {
      await produce(0, 30);
      const first = await consume('first consumer', 30);
      try {
        await until('30 committed', async () => (await committed(groupId, topic)) === 30, 15_000);
      } finally {
        await first.consumer.disconnect();
      }
      expect(first.seen.map((m) => m.value).sort()).toEqual(
        Array.from({ length: 30 }, (_, i) => `m-${i}`).sort(),
      );

      await produce(30, 20);
      const second = await consume('second consumer', 20);
      try {
        await sleep(1_000); // a redelivery of a committed message would show up here
        await until('50 committed', async () => (await committed(groupId, topic)) === 50, 15_000);
      } finally {
        await second.consumer.disconnect();
      }
      // fromBeginning applies only to a group without committed offsets: nothing of the first 30.
      expect(second.seen.map((m) => m.value).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `m-${30 + i}`).sort(),
      );
    } finally {
      await producer.disconnect();
    }
  }, 90_000);
});
