/**
 * Vitest global setup: a real Kafka broker for the suite. If HM_KAFKA_BROKERS names a cluster, it
 * is used as is and nothing is started; otherwise scripts/kafka/broker.sh fetches the jars (once,
 * cached) and starts a single-node KRaft broker on a free loopback port in a temp dir, and the
 * teardown stops it. Tests read the address with inject('kafkaBrokers'); forked workers also
 * inherit HM_KAFKA_BROKERS.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port[,host:port…] of the suite's Kafka cluster. */
    kafkaBrokers: string;
  }
}

export const BROKER_SCRIPT = fileURLToPath(
  new URL('../../scripts/kafka/broker.sh', import.meta.url),
);

const run = promisify(execFile);

/** Runs broker.sh; its progress goes to our stderr, its stdout is returned. */
async function broker(args: string[], timeoutMs: number): Promise<string> {
  const child = run('bash', [BROKER_SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
  child.child.stderr?.pipe(process.stderr);
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as Error & { stdout?: string };
    throw new Error(`broker.sh ${args.join(' ')} failed: ${e.message}${e.stdout ?? ''}`, {
      cause: err,
    });
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.HM_KAFKA_BROKERS;
  if (given) {
    project.provide('kafkaBrokers', given);
    return async () => undefined;
  }
  // Cold: ~10 s with Maven Central at hand (43 MB of jars); warm: a marker file is checked.
  await broker(['fetch'], 600_000);
  const dir = await mkdtemp(join(tmpdir(), 'hm-test-kafka-'));
  let brokers: string;
  try {
    // --owner: the broker is stopped even if this process dies before the teardown.
    const out = await broker(['start', '--dir', dir, '--owner', String(process.pid)], 180_000);
    brokers = out.trim().split('\n').at(-1) ?? '';
    if (!/^127\.0\.0\.1:\d+$/.test(brokers))
      throw new Error(`broker.sh start printed no address: ${out}`);
  } catch (err) {
    await broker(['stop', '--dir', dir], 60_000).catch(() => undefined);
    throw err;
  }
  process.env.HM_KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return async () => {
    try {
      await broker(['stop', '--dir', dir], 60_000);
    } finally {
      delete process.env.HM_KAFKA_BROKERS;
      await rm(dir, { recursive: true, force: true });
    }
  };
}
