// The two Kafka stages, repartition and enrich, built on the stage runner in consumers.ts.
import type { Message } from 'kafkajs';
import { bindIdentity } from '../auth/index.js';
import {
  decodeLogsRequest,
  decodeTraceRequest,
  OtlpDecodeError,
  type DecodedLogs,
  type DecodedTraces,
} from '../decode/index.js';
import type { PricedSpan, SpanRecord } from '../model.js';
import { costOutOfRange, type PriceBook } from '../price/index.js';
import type { SpanSink } from '../sink/sink.js';
import { createSessionStamper } from '../stamp.js';
import { decodeSpanRecords, encodeSpanRecords, PoisonMessageError, sessionKey } from './codec.js';
import {
  chunkBySize,
  createYielder,
  deadLetter,
  makeStage,
  refusedSpanMessage,
  sendDeadLetters,
  SESSION_MESSAGE_SPANS,
  untilDone,
  type Stage,
  type StageDeps,
  type StageOptions,
} from './consumers.js';
import { identityOf } from './identity.js';

const logsAsTraces = (d: DecodedLogs): DecodedTraces => ({
  spans: d.spans,
  rejectedSpans: d.rejected,
  errors: d.errors,
});

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
