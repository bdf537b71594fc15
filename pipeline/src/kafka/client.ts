import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { Logger } from '../logger.js';

/** kafkajs log entries go through the pipeline's logger. */
function logCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...fields } = entry;
      const msg = `kafkajs: ${message}`;
      if (level === logLevel.ERROR) log.warn(msg, fields);
      else if (level === logLevel.WARN) log.info(msg, fields);
      else log.debug(msg, fields);
    };
}

export function createKafka(cfg: KafkaConfig, log: Logger, clientSuffix: string): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  return new Kafka({
    clientId: `${cfg.clientId}-${clientSuffix}`,
    brokers: cfg.brokers,
    logLevel: logLevel.INFO,
    logCreator: logCreator(log),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 5 },
  });
}

/** Creates harness-meter's topics when they are missing (the Collector's topic included). */
export async function ensureTopics(admin: Admin, cfg: KafkaConfig): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted: ITopicConfig[] = [
    cfg.otlpSpansTopic,
    cfg.otlpLogsTopic,
    cfg.otlpMetricsTopic,
    cfg.sessionSpansTopic,
    cfg.deadLetterTopic,
  ]
    .filter((t) => !existing.has(t))
    .map((topic) => ({ topic, numPartitions: cfg.partitions, replicationFactor: -1 }));
  if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
}
