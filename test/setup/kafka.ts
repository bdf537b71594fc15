/**
 * Vitest global setup: a real Kafka broker for the suite. If HM_KAFKA_BROKERS names a cluster, it
 * is used as is; otherwise scripts/kafka/broker.sh starts a single-node KRaft broker on a free
 * loopback port, and stops it after the run. Workers (forks) inherit HM_KAFKA_BROKERS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

export const BROKER_SCRIPT = fileURLToPath(
  new URL('../../scripts/kafka/broker.sh', import.meta.url),
);

export default function setup(project: TestProject): () => void {
  const given = process.env.HM_KAFKA_BROKERS;
  if (given) {
    project.provide('kafkaBrokers', given);
    return () => undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hm-test-kafka-'));
  const out = execFileSync('bash', [BROKER_SCRIPT, 'start', '--dir', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  });
  const brokers = out.trim().split('\n').at(-1) ?? '';
  if (!/^127\.0\.0\.1:\d+$/.test(brokers))
    throw new Error(`broker.sh start printed no address: ${out}`);
  process.env.HM_KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return () => {
    execFileSync('bash', [BROKER_SCRIPT, 'stop', '--dir', dir], {
      stdio: 'inherit',
      timeout: 60_000,
    });
    rmSync(dir, { recursive: true, force: true });
  };
}
