import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../pipeline/src/config.js';
import type { OtlpTraceRequest } from '../../pipeline/src/decode/index.js';

/** The suite's broker (test/setup/kafka.ts). */
export const brokers = (): string => inject('kafkaBrokers');

/** A config with topics and groups no other test file uses. */
export function kafkaTestConfig(
  label: string,
  overrides: Partial<Config> = {},
  env: Record<string, string> = {},
): Config {
  const id = `${label}-${randomBytes(4).toString('hex')}`;
  return loadConfig(
    {
      HM_KAFKA_BROKERS: brokers(),
      HM_KAFKA_TOPIC_OTLP_SPANS: `otlp_spans-${id}`,
      HM_KAFKA_TOPIC_OTLP_LOGS: `otlp_logs-${id}`,
      HM_KAFKA_TOPIC_OTLP_METRICS: `otlp_metrics-${id}`,
      HM_KAFKA_TOPIC_SESSION_SPANS: `hm_session_spans-${id}`,
      HM_KAFKA_TOPIC_DEAD_LETTERS: `hm_dead_letters-${id}`,
      HM_KAFKA_GROUP_PREFIX: `hm-${id}`,
      HM_KAFKA_PARTITIONS: '3',
      HM_BATCH_MAX_WAIT_MS: '20',
      ...env,
    },
    { port: 0, ...overrides },
  );
}

/** The environment variables matching a config, for child processes. */
export function kafkaEnv(c: Config): Record<string, string> {
  return {
    HM_KAFKA_BROKERS: c.kafka.brokers.join(','),
    HM_KAFKA_TOPIC_OTLP_SPANS: c.kafka.otlpSpansTopic,
    HM_KAFKA_TOPIC_OTLP_LOGS: c.kafka.otlpLogsTopic,
    HM_KAFKA_TOPIC_OTLP_METRICS: c.kafka.otlpMetricsTopic,
    HM_KAFKA_TOPIC_SESSION_SPANS: c.kafka.sessionSpansTopic,
    HM_KAFKA_TOPIC_DEAD_LETTERS: c.kafka.deadLetterTopic,
    HM_KAFKA_GROUP_PREFIX: c.kafka.groupPrefix,
    HM_KAFKA_PARTITIONS: String(c.kafka.partitions),
    HM_BATCH_MAX_WAIT_MS: String(c.batchMaxWaitMs),
  };
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'hm-test', brokers: [brokers()], logLevel: logLevel.NOTHING });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}

/** Reads every message of a topic from the beginning, until `count` arrived. */
export async function readTopic(
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<KafkaMessage[]> {
  const consumer = testKafka().consumer({ groupId: `reader-${randomBytes(4).toString('hex')}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
  try {
    await waitFor(`${count} messages on ${topic}`, async () => got.length >= count, timeoutMs);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const HEX = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/**
 * N gpt-4o LLM spans (1,000 input tokens, 100 output) spread over `sessions` sessions, as OTLP
 * requests of `perRequest` spans. Each costs 1,000 × 2,500 + 100 × 10,000 = 3,500,000 nano-USD.
 */
export const GPT4O_SPAN_NANOS = 3_500_000n;
export function gpt4oRequests(
  n: number,
  perRequest: number,
  sessions: number,
  seed: number,
  startMs = Date.now() - 3_600_000,
): OtlpTraceRequest[] {
  const out: OtlpTraceRequest[] = [];
  for (let i = 0; i < n; i += perRequest) {
    const spans = [];
    for (let j = i; j < Math.min(n, i + perRequest); j++) {
      const session = j % sessions;
      spans.push({
        traceId: HEX(seed, 16) + HEX(session + 1, 16),
        spanId: HEX(seed * 1_000_000 + j + 1, 16),
        name: 'chat gpt-4o',
        kind: 3,
        startTimeUnixNano: String(BigInt(startMs + j) * 1_000_000n),
        endTimeUnixNano: String(BigInt(startMs + j + 500) * 1_000_000n),
        attributes: [
          { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
          { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
          { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
          { key: 'gen_ai.conversation.id', value: { stringValue: `load-${seed}-${session}` } },
          {
            key: 'vcs.repository.url.full',
            value: { stringValue: 'https://github.com/acme/load' },
          },
          { key: 'vcs.change.id', value: { stringValue: String(seed) } },
          { key: 'gen_ai.usage.input_tokens', value: { intValue: '1000' } },
          { key: 'gen_ai.usage.output_tokens', value: { intValue: '100' } },
        ],
      });
    }
    out.push({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'load' } }] },
          scopeSpans: [{ scope: { name: 'load' }, spans }],
        },
      ],
    });
  }
  return out;
}
