import { bindIdentity } from '../auth/index.js';
import { identityOf } from './identity.js';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import {
  decodeLogsRequest,
  decodeTraceRequest,
  OtlpDecodeError,
  type DecodeLimits,
  type DecodedLogs,
  type DecodedTraces,
} from '../decode/index.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { PricedSpan, SpanRecord } from '../model.js';
import { costOutOfRange, type PriceBook } from '../price/index.js';
import type { SpanSink } from '../sink/sink.js';
import type { RefusedSpan } from '../sink/refusals.js';
import { createSessionStamper } from '../stamp.js';
import {
  decodeSpanRecords,
  encodeSpanRecord,
  encodeSpanRecords,
  PoisonMessageError,
  sessionKey,
} from './codec.js';
import { backoffDelay, sleep, type Backoff, DEFAULT_BACKOFF } from './retry.js';

const logsAsTraces = (d: DecodedLogs): DecodedTraces => ({
  spans: d.spans,
  rejectedSpans: d.rejected,
  errors: d.errors,
});

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

/**
 * Repartition: reads raw OTLP export requests (from harness-meter's ingest or the Collector's
 * Kafka exporter), decodes them, and writes one record per span to the session topic keyed by
 * session id, so all spans of a session reach one enrich consumer, in order. Undecodable
 * messages go to the dead-letter topic. Offsets are committed after Kafka acknowledged both.
 */
export function createRepartitionStage(deps: StageDeps): Stage {
  const { cfg, producer, metrics } = deps;
  return makeStage(
    deps,
    `${cfg.groupPrefix}-repartition`,
    [cfg.otlpSpansTopic, cfg.otlpLogsTopic],
    async (_c, p) => {
      const encoding = cfg.otlpEncoding === 'otlp_json' ? 'json' : 'protobuf';
      const isLogs = p.batch.topic === cfg.otlpLogsTopic;
      const bySession = new Map<string, SpanRecord[]>();
      const dead: Message[] = [];
      const pause = createYielder(p);
      for (const m of p.batch.messages) {
        await pause();
        try {
          if (!m.value) throw new PoisonMessageError('empty message value');
          const decoded = isLogs
            ? logsAsTraces(decodeLogsRequest(m.value, encoding, deps.limits))
            : decodeTraceRequest(m.value, encoding, deps.limits);
          const who = identityOf(m.headers);
          const records =
            who.keyId === '' ? decoded.spans : bindIdentity(decoded.spans, who).records;
          for (const r of records) {
            const key = sessionKey(r);
            const group = bySession.get(key);
            if (group) group.push(r);
            else bySession.set(key, [r]);
          }
          // Each refused span goes to the dead-letter topic alone (its OTLP/JSON and the reason).
          for (const r of decoded.rejected ?? [])
            dead.push(
              deadLetter(
                p.batch.topic,
                p.batch.partition,
                { ...m, value: Buffer.from(r.sample) },
                r.reason,
              ),
            );
          if (decoded.rejectedSpans > 0)
            metrics.inc(
              'rejected_spans_total',
              'Spans dropped as invalid (bad ids or times).',
              decoded.rejectedSpans,
            );
        } catch (err) {
          if (!(err instanceof OtlpDecodeError || err instanceof PoisonMessageError)) throw err;
          dead.push(deadLetter(p.batch.topic, p.batch.partition, m, err.message));
        }
      }
      // One message per session and batch (at most SESSION_MESSAGE_SPANS spans), its spans in order.
      const out: Message[] = [];
      let spans = 0;
      for (const [key, records] of bySession) {
        spans += records.length;
        for (let i = 0; i < records.length; i += SESSION_MESSAGE_SPANS)
          out.push({
            key,
            value: encodeSpanRecords(
              records.slice(i, i + SESSION_MESSAGE_SPANS),
              cfg.sessionFormat,
            ),
          });
      }
      const sends = [
        ...chunkBySize(out).map((messages) => ({ topic: cfg.sessionSpansTopic, messages })),
        ...chunkBySize(dead).map((messages) => ({ topic: cfg.deadLetterTopic, messages })),
      ];
      for (const send of sends) {
        await untilDone(
          'repartition produce',
          async () => void (await producer.send({ acks: -1, ...send })),
          p,
          deps,
        );
      }
      if (dead.length > 0)
        metrics.inc('dead_letters_total', 'Messages sent to the dead-letter topic.', dead.length, {
          stage: 'repartition',
        });
      metrics.inc('spans_repartitioned_total', 'Spans written to the session topic.', spans);
    },
  );
}

/**
 * The enrich stage's batching. chDB pays a fixed cost per insert (a part for spans and for every
 * view's target: about 300 ms for 500 spans under load, against 450 ms for 10,000), and a sink
 * insert runs one at a time, so the spans that queue up meanwhile make the next insert. Four
 * batches per partition handed off (not two) and inserts of up to 150,000 spans (not 50,000) took
 * the bench (200k spans) from 6–8 inserts to 4–5 and its process CPU per span about 10 % lower (in
 * five of six alternating runs on a loaded machine), with peak RSS 100–150 MB higher (README,
 * "Benchmarks").
 */
export const ENRICH_DEFAULTS = {
  overlapDepth: 4,
  maxBatchSpans: 150_000,
  /**
   * Session-topic fetches of at most 1 MiB a partition (about 6,000 spans of the bench's `{v:3}`
   * messages): six partitions times four batches then stay under the sink's queue bound
   * (SINK_DEFAULTS.maxQueuedSpans, 200,000) while a backlog is read, where 4 MiB fetches would
   * overflow it and every refused write would back off up to 10 s.
   */
  maxBytesPerPartition: 1024 * 1024,
} as const;

export interface EnrichDeps extends StageDeps {
  priceBook: PriceBook;
  sink: SpanSink;
}

/**
 * Enrich: reads session-keyed span records, prices them and writes them to ClickHouse in batches.
 * Offsets are committed only after the insert holding those messages succeeded; while ClickHouse
 * is unavailable the batch is retried with capped backoff (consumption of those partitions waits).
 */
export function createEnrichStage(deps: EnrichDeps, options: StageOptions = {}): Stage {
  const { cfg, metrics, priceBook, sink } = deps;
  // Spans of a session arrive on one partition, in order: the stamp seen first applies to what follows.
  const stamper = createSessionStamper();
  return makeStage(
    deps,
    `${cfg.groupPrefix}-enrich`,
    [cfg.sessionSpansTopic],
    async (_c, p) => {
      const priced: PricedSpan[] = [];
      const dead: Message[] = [];
      const pause = createYielder(p);
      for (const m of p.batch.messages) {
        await pause();
        let records: SpanRecord[];
        try {
          records = decodeSpanRecords(m.value);
        } catch (err) {
          if (!(err instanceof PoisonMessageError)) throw err;
          dead.push(deadLetter(p.batch.topic, p.batch.partition, m, err.message));
          continue;
        }
        for (const record of records) {
          const span = priceBook.priceSpan(stamper.apply([record])[0] ?? record);
          const outOfRange = costOutOfRange(span);
          if (outOfRange === undefined) priced.push(span);
          else dead.push(refusedSpanMessage({ span, reason: outOfRange }, 'enrich'));
        }
      }
      await sendDeadLetters(dead, 'enrich', p, deps);
      if (priced.length === 0) return;
      const started = Date.now();
      const stored = untilDone(
        'clickhouse insert',
        async () => {
          const r = await sink.write(priced);
          metrics.inc('spans_stored_total', 'Spans stored in ClickHouse.', r.inserted);
          metrics.inc(
            'spans_duplicate_total',
            'Redelivered spans skipped as already stored.',
            r.duplicates,
          );
        },
        p,
        deps,
      ).then(() =>
        metrics.observe(
          'insert_seconds',
          'Time from batch start to its spans being stored (retries included).',
          (Date.now() - started) / 1000,
        ),
      );
      return { stored };
    },
    options,
  );
}
