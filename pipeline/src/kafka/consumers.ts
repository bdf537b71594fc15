import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { DecodeLimits } from '../decode/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { RefusedSpan } from '../sink/refusals.js';
import { encodeSpanRecord, sessionKey } from './codec.js';
import { backoffDelay, sleep, type Backoff, DEFAULT_BACKOFF } from './retry.js';

/** Bounds of what a consumer holds in memory at once. */
export const CONSUMER_DEFAULTS = {
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxBytes: 16 * 1024 * 1024,
  partitionsConsumedConcurrently: 6,
  sessionTimeout: 10_000,
  heartbeatInterval: 1000,
  /**
   * Longest the broker holds a fetch open when there is nothing new. A stopping consumer waits for
   * its fetch in flight: with kafkajs's 5 s default, SIGTERM of an idle enrich process took 7–9 s.
   */
  maxWaitTimeInMs: 500,
} as const;

export interface StageDeps {
  kafka: Kafka;
  producer: Producer;
  cfg: KafkaConfig;
  /** Attribute limits applied at decode (HM_ATTRIBUTE_*). @default DECODE_DEFAULTS */
  limits?: DecodeLimits;
  log: Logger;
  metrics: Metrics;
  backoff?: Backoff;
}

/**
 * Sends a batch's dead letters (acks=all, retried like every write) and counts them under `stage`.
 * Nothing to send is a no-op.
 */
export async function sendDeadLetters(
  dead: Message[],
  stage: string,
  p: EachBatchPayload,
  deps: StageDeps,
): Promise<void> {
  if (dead.length === 0) return;
  await untilDone(
    'dead-letter produce',
    async () =>
      void (await deps.producer.send({
        topic: deps.cfg.deadLetterTopic,
        acks: -1,
        messages: dead,
      })),
    p,
    deps,
  );
  deps.metrics.inc('dead_letters_total', 'Messages sent to the dead-letter topic.', dead.length, {
    stage,
  });
}

/** Most spans in one session-topic message (about 1 KiB each as JSON). */
export const SESSION_MESSAGE_SPANS = 200;

/** Largest produce request harness-meter sends: Kafka refuses record batches over message.max.bytes (1 MiB by default). */
export const MAX_PRODUCE_BYTES = 512 * 1024;

/** Splits messages into sends of at most MAX_PRODUCE_BYTES (a single larger message goes alone). */
export function chunkBySize(
  messages: Message[],
  maxBytes: number = MAX_PRODUCE_BYTES,
): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let size = 0;
  for (const m of messages) {
    const n =
      (m.value ? Buffer.byteLength(m.value) : 0) + (m.key ? Buffer.byteLength(m.key) : 0) + 64;
    if (current.length > 0 && size + n > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The reason and origin of a dead letter travel as headers; the value is the original bytes. */
export function deadLetter(
  topic: string,
  partition: number,
  m: KafkaMessage,
  reason: string,
): Message {
  return {
    key: m.key,
    value: m.value,
    headers: {
      'hm.dlq.reason': reason.slice(0, 1000),
      'hm.dlq.source.topic': topic,
      'hm.dlq.source.partition': String(partition),
      'hm.dlq.source.offset': m.offset,
      'hm.dlq.at': new Date().toISOString(),
    },
  };
}

/** A span the store refused, as a dead letter: the span record as the session topic carries it. */
export function refusedSpanMessage(r: RefusedSpan, stage: string): Message {
  return {
    key: sessionKey(r.span),
    value: encodeSpanRecord(r.span),
    headers: {
      'hm.dlq.reason': r.reason.slice(0, 1000),
      'hm.dlq.stage': stage,
      'hm.dlq.at': new Date().toISOString(),
    },
  };
}

/**
 * Retries `work` with capped exponential backoff and jitter until it succeeds, heartbeating so the
 * group keeps the partition. Gives up (throws) only when the consumer is stopping: then nothing is
 * committed and the batch is redelivered.
 */
export async function untilDone(
  what: string,
  work: () => Promise<void>,
  p: EachBatchPayload,
  deps: StageDeps,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await work();
      return;
    } catch (err) {
      if (!p.isRunning() || p.isStale()) throw err;
      const delay = backoffDelay(attempt, deps.backoff ?? DEFAULT_BACKOFF);
      deps.metrics.inc('retries_total', 'Retried writes (ClickHouse or Kafka unavailable).', 1, {
        stage: what,
      });
      deps.log.warn(`${what} failed; retrying`, {
        attempt: attempt + 1,
        delayMs: delay,
        error: err instanceof Error ? err.message : String(err),
      });
      const until = Date.now() + delay;
      while (Date.now() < until) {
        await p.heartbeat().catch(() => undefined);
        if (!p.isRunning()) throw err;
        await sleep(Math.min(500, until - Date.now()));
      }
    }
  }
}

/** The longest a batch's synchronous work (decoding, pricing) runs before letting timers and I/O in. */
export const YIELD_EVERY_MS = 100;

/**
 * Returns a function to call between messages: past YIELD_EVERY_MS of synchronous work it yields to
 * the event loop and heartbeats. Without it, decoding a 16 MiB fetch on a busy machine kept the loop
 * for longer than the session timeout and the group dropped the member mid-batch.
 */
export function createYielder(
  p: Pick<EachBatchPayload, 'heartbeat'>,
  now: () => number = Date.now,
): () => Promise<void> | undefined {
  let last = now();
  return () => {
    if (now() - last < YIELD_EVERY_MS) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => p.heartbeat())
      .catch(() => undefined)
      .then(() => void (last = now()));
  };
}

async function commitThrough(
  consumer: Consumer,
  topic: string,
  partition: number,
  lastOffset: string,
): Promise<void> {
  await consumer.commitOffsets([
    { topic, partition, offset: (BigInt(lastOffset) + 1n).toString() },
  ]);
}

export interface Stage {
  readonly consumer: Consumer;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What a handler returns: nothing when the batch's results are durable as it resolves, or
 * `stored`, which resolves once they are (the batch's offsets are committed only then).
 */
export type Handoff = void | { stored: Promise<void> };

export interface StageOptions {
  /**
   * Return from a batch once it is handed off, so that the next fetch, decode and pricing run while
   * its `stored` is awaited; one batch per partition waits that way, and offsets are committed in
   * order, each after its own `stored` and every earlier one. @default false
   */
  overlap?: boolean;
  /**
   * With `overlap`: how many batches of one partition may be handed off and not yet committed (the
   * one being fetched next waits below this). More lets the sink gather larger inserts while one
   * runs (each chDB insert has a fixed cost for the spans table and every view). @default 2
   */
  overlapDepth?: number;
  /** Most bytes one fetch takes of a partition. @default CONSUMER_DEFAULTS.maxBytesPerPartition */
  maxBytesPerPartition?: number;
}

/** A consumer group whose batches `handle` processes; offsets are committed after what `handle` wrote is durable. */
export function makeStage(
  deps: StageDeps,
  groupId: string,
  topics: string[],
  handle: (c: Consumer, p: EachBatchPayload) => Promise<Handoff>,
  stageOptions: StageOptions = {},
): Stage {
  const consumer = deps.kafka.consumer({
    groupId,
    maxBytesPerPartition:
      stageOptions.maxBytesPerPartition ?? CONSUMER_DEFAULTS.maxBytesPerPartition,
    maxBytes: CONSUMER_DEFAULTS.maxBytes,
    sessionTimeout: CONSUMER_DEFAULTS.sessionTimeout,
    heartbeatInterval: CONSUMER_DEFAULTS.heartbeatInterval,
    maxWaitTimeInMs: CONSUMER_DEFAULTS.maxWaitTimeInMs,
    allowAutoTopicCreation: false,
    // After any crash (e.g. the group dropped this member), rejoin: nothing was committed past what
    // was stored, so the redelivered messages are deduplicated downstream.
    retry: {
      retries: 10,
      initialRetryTime: 300,
      maxRetryTime: 10_000,
      restartOnFailure: () => Promise.resolve(true),
    },
  });
  /** Per partition, the handed-off batches' store-and-commit, oldest first (overlap only). */
  let pendingCommits = new Map<string, Promise<void>[]>();
  const depth = Math.max(1, Math.floor(stageOptions.overlapDepth ?? 2));
  consumer.on(consumer.events.CRASH, (e) => {
    // The restarted consumer fetches from the committed offsets: earlier hand-offs no longer chain.
    pendingCommits = new Map();
    deps.metrics.inc(
      'consumer_crashes_total',
      'Consumer crashes (the consumer restarts and rejoins).',
      1,
      { group: groupId },
    );
    deps.log.warn('consumer crashed; restarting', {
      group: groupId,
      error: e.payload.error.message,
      restart: e.payload.restart,
    });
    // kafkajs itself restarts only after retriable errors; after the others (e.g. "The coordinator
    // is not aware of this member" once the group dropped a member whose event loop was blocked)
    // the consumer would stay down for good. It has disconnected: rejoin with backoff.
    if (!e.payload.restart) scheduleRestart();
  });
  let stopped = false;
  /** eachBatch calls and pending commits still running: stop() waits for them before leaving. */
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.then(
      () => inFlight.delete(work),
      () => inFlight.delete(work),
    );
    return work;
  };
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  function scheduleRestart(): void {
    if (stopped || restartTimer !== undefined) return;
    const delay = backoffDelay(restarts++, deps.backoff ?? DEFAULT_BACKOFF);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      run()
        .then(() => void (restarts = 0))
        .catch((err: unknown) => {
          // connect or subscribe failed (kafkajs emits no crash for these): try again
          deps.log.warn('consumer restart failed; retrying', {
            group: groupId,
            error: err instanceof Error ? err.message : String(err),
          });
          scheduleRestart();
        });
    }, delay);
  }
  const observe = (p: EachBatchPayload, started: number): void => {
    deps.metrics.observe(
      'batch_messages',
      'Messages per consumed batch.',
      p.batch.messages.length,
      { group: groupId },
    );
    deps.metrics.observe(
      'batch_seconds',
      'Time to process and commit a batch.',
      (Date.now() - started) / 1000,
      { group: groupId },
    );
    deps.metrics.inc(
      'messages_total',
      'Messages consumed and committed.',
      p.batch.messages.length,
      { group: groupId },
    );
  };
  /**
   * Overlap: the batch is handed off; its offsets are resolved at once (the next fetch moves on)
   * and committed once it and every earlier batch of the partition are stored. Waiting here for the
   * batch `depth - 1` before it bounds what is in memory to `depth` batches per partition. A failed store or commit
   * (only while stopping, after the partition moved, or in a rebalance) stays in the map: every
   * later batch of the partition fails with it, so nothing past it is committed, and the consumer
   * crashes and restarts from the last committed offset (the crash handler clears the map).
   */
  async function chainCommit(
    p: EachBatchPayload,
    stored: Promise<void>,
    started: number,
  ): Promise<void> {
    const { topic, partition } = p.batch;
    const last = p.batch.messages.at(-1)!;
    const key = `${topic}|${partition}`;
    const pending = pendingCommits;
    const chain = pending.get(key) ?? [];
    pending.set(key, chain);
    const previous = chain.at(-1);
    // Handled now (awaited below): a store that fails before the previous batch settles is no crash.
    void stored.catch(() => undefined);
    p.resolveOffset(last.offset);
    const done = track(
      (async () => {
        try {
          await previous;
        } finally {
          await stored.catch(() => undefined);
        }
        await stored;
        await commitThrough(consumer, topic, partition, last.offset);
        observe(p, started);
      })(),
    );
    chain.push(done);
    void done.then(
      () => {
        void chain.splice(chain.indexOf(done), 1);
        if (chain.length === 0 && pending.get(key) === chain) pending.delete(key);
      },
      () => undefined,
    );
    // At most `depth` batches of the partition pending, this one included: wait for the oldest
    // beyond that (it fails when any earlier one failed: each waits for the one before it).
    if (chain.length >= depth) await chain[chain.length - depth];
  }
  const run = async (): Promise<void> => {
    pendingCommits = new Map();
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
      eachBatch: (p) =>
        track(
          (async () => {
            const last = p.batch.messages.at(-1);
            if (last === undefined) return;
            const started = Date.now();
            // Keep the membership alive while a large batch is decoded, produced or inserted: a
            // member silent for sessionTimeout is dropped from the group and its commit refused.
            const keepAlive = setInterval(
              () => void p.heartbeat().catch(() => undefined),
              CONSUMER_DEFAULTS.heartbeatInterval,
            );
            try {
              const handed = await handle(consumer, p);
              if (handed && stageOptions.overlap) {
                await chainCommit(p, handed.stored, started);
                return;
              }
              if (handed) await handed.stored;
              p.resolveOffset(last.offset);
              await commitThrough(consumer, p.batch.topic, p.batch.partition, last.offset);
            } finally {
              clearInterval(keepAlive);
            }
            observe(p, started);
          })(),
        ),
    });
  };
  return {
    consumer,
    start: run,
    async stop() {
      stopped = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      if (stageOptions.overlap) {
        // Handed-off batches commit through the group: fetch nothing more, let them finish, then leave.
        try {
          consumer.pause(topics.map((topic) => ({ topic })));
        } catch {
          // not running (never started, or crashed): nothing is fetched anyway
        }
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      }
      await consumer.disconnect();
    },
  };
}
