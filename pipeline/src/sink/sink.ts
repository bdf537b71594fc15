import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PricedSpan } from '../model.js';
import { deadLetterRow, isRowDataError, type RefusedSpan } from './refusals.js';
import { spanKey, toSpanRow } from './rows.js';

/**
 * Outcome of a write: how many spans were new, how many were already stored, and how many the
 * store refused (set aside as dead letters, with the reasons).
 */
export interface SinkWriteResult {
  inserted: number;
  duplicates: number;
  refused: number;
  reasons: string[];
}

/** Where refused spans go: the `rejected_spans` table (embedded) or the dead-letter topic (Kafka). */
export type DeadLetterHandler = (refused: readonly RefusedSpan[]) => Promise<void>;

/** Batched, idempotent writer of priced spans into ClickHouse. */
export interface SpanSink {
  /** Queues spans; resolves once the batch holding them is stored (or rejects with a retriable error). */
  write(spans: readonly PricedSpan[]): Promise<SinkWriteResult>;
  /** Stores whatever is queued now. */
  flush(): Promise<void>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
  /** How many batches stored new spans so far (lets readers tell whether anything changed). */
  storedBatches(): number;
}

export interface SpanSinkOptions {
  db: string;
  /** Flush when this many spans are queued. */
  maxSpans?: number;
  /** Flush when the oldest queued span waited this long. */
  maxWaitMs?: number;
  /** Refuse writes (retriable) beyond this many queued spans: memory stays bounded. */
  maxQueuedSpans?: number;
  /** Where refused spans go. @default insert into `<db>.rejected_spans` */
  deadLetter?: DeadLetterHandler;
  /** Called with the number of spans refused by the store (for a counter). */
  onRefused?: (count: number) => void;
  logger?: Logger;
}

export const SINK_DEFAULTS = {
  maxSpans: 5000,
  maxWaitMs: 200,
  maxQueuedSpans: 200_000,
  /** Keys per existence query (they travel as a query parameter). */
  existenceChunk: 1000,
} as const;

interface Waiter {
  spans: readonly PricedSpan[];
  resolve: (r: SinkWriteResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Creates the ClickHouse sink. Idempotence: within a batch duplicates are dropped, and spans whose
 * (TraceId, SpanId) is already stored are skipped, so a redelivered span counts once in the
 * spans table and in every rollup fed from it. Flushes run one at a time.
 */
export function createSpanSink(client: ClickHouseClient, options: SpanSinkOptions): SpanSink {
  const maxSpans = options.maxSpans ?? SINK_DEFAULTS.maxSpans;
  const maxWaitMs = options.maxWaitMs ?? SINK_DEFAULTS.maxWaitMs;
  const maxQueued = options.maxQueuedSpans ?? SINK_DEFAULTS.maxQueuedSpans;
  const log = options.logger ?? silentLogger;
  const db = options.db;
  let queue: Waiter[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  let storedCount = 0;

  async function existingKeys(spans: readonly PricedSpan[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < spans.length; i += SINK_DEFAULTS.existenceChunk) {
      const chunk = spans.slice(i, i + SINK_DEFAULTS.existenceChunk);
      const rs = await client.query({
        query: `SELECT concat(TraceId, ':', SpanId) AS k FROM {db:Identifier}.spans
                WHERE TraceId IN {traces:Array(String)} AND concat(TraceId, ':', SpanId) IN {keys:Array(String)}`,
        query_params: {
          db,
          traces: [...new Set(chunk.map((s) => s.traceId))],
          keys: chunk.map(spanKey),
        },
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink dedup' },
      });
      for (const row of await rs.json<{ k: string }>()) found.add(row.k);
    }
    return found;
  }

  const deadLetter: DeadLetterHandler =
    options.deadLetter ??
    (async (refused) => {
      await client.insert({
        table: `${db}.rejected_spans`,
        values: refused.map((r) => deadLetterRow(r, 'sink')),
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink dead letters' },
      });
    });

  /**
   * Inserts spans; when the store refuses them because of their data, splits the batch in halves
   * until the refused spans are alone, stores the rest and returns the refused ones. A transient
   * failure (not caused by the rows) is thrown as it is, and the batch is retried whole.
   */
  async function insertSplitting(spans: PricedSpan[]): Promise<RefusedSpan[]> {
    try {
      await client.insert({
        table: `${db}.spans`,
        values: spans.map(toSpanRow),
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink insert' },
      });
      return [];
    } catch (err) {
      if (!isRowDataError(err)) throw err;
      if (spans.length === 1) return [{ span: spans[0]!, reason: messageOf(err) }];
      const mid = spans.length >>> 1;
      return [
        ...(await insertSplitting(spans.slice(0, mid))),
        ...(await insertSplitting(spans.slice(mid))),
      ];
    }
  }

  async function store(batch: Waiter[]): Promise<void> {
    const seen = new Set<string>();
    const unique: PricedSpan[] = [];
    for (const w of batch) {
      for (const s of w.spans) {
        const k = spanKey(s);
        if (seen.has(k)) continue;
        seen.add(k);
        unique.push(s);
      }
    }
    const total = batch.reduce((n, w) => n + w.spans.length, 0);
    const stored = unique.length > 0 ? await existingKeys(unique) : new Set<string>();
    const fresh = unique.filter((s) => !stored.has(spanKey(s)));
    let refused: RefusedSpan[] = [];
    if (fresh.length > 0) {
      storedCount++;
      const started = Date.now();
      refused = await insertSplitting(fresh);
      if (refused.length > 0) {
        log.warn('sink refused spans set aside', {
          spans: refused.length,
          reason: refused[0]?.reason.slice(0, 300),
        });
        options.onRefused?.(refused.length);
        try {
          await deadLetter(refused);
        } catch (err) {
          // The good rows are stored; losing the dead letters is logged, never another client's 503.
          log.error('dead-lettering refused spans failed', {
            spans: refused.length,
            error: messageOf(err),
          });
        }
      }
      log.debug('sink batch stored', {
        spans: fresh.length - refused.length,
        refused: refused.length,
        duplicates: total - fresh.length,
        ms: Date.now() - started,
      });
    }
    // Per-waiter accounting: a waiter's span is "inserted" if this batch stored it for the first time.
    const refusedReasons = new Map(refused.map((r) => [spanKey(r.span), r.reason]));
    const insertedKeys = new Set(fresh.map(spanKey).filter((k) => !refusedReasons.has(k)));
    for (const w of batch) {
      let inserted = 0;
      const reasons: string[] = [];
      for (const s of w.spans) {
        const k = spanKey(s);
        if (insertedKeys.delete(k)) inserted++;
        const reason = refusedReasons.get(k);
        if (reason !== undefined) {
          refusedReasons.delete(k);
          reasons.push(`span ${s.spanId}: refused by the store: ${reason.slice(0, 300)}`);
        }
      }
      w.resolve({
        inserted,
        duplicates: w.spans.length - inserted - reasons.length,
        refused: reasons.length,
        reasons,
      });
    }
  }

  function flushNow(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = queue;
    queue = [];
    queued = 0;
    if (batch.length === 0) return chain;
    chain = chain.then(async () => {
      try {
        await store(batch);
      } catch (err) {
        log.warn('sink batch failed', {
          spans: batch.reduce((n, w) => n + w.spans.length, 0),
          error: messageOf(err),
        });
        const error = new PipelineError(
          'SINK_FAILED',
          `Storing spans in ClickHouse failed: ${messageOf(err)}. Retry the request.`,
          {
            retriable: true,
            cause: err,
          },
        );
        for (const w of batch) w.reject(error);
      }
    });
    return chain;
  }

  return {
    write(spans) {
      if (closed)
        return Promise.reject(
          new PipelineError(
            'SINK_FAILED',
            'The sink is closed (the server is stopping). Retry later.',
            { retriable: true },
          ),
        );
      if (spans.length === 0)
        return Promise.resolve({ inserted: 0, duplicates: 0, refused: 0, reasons: [] });
      if (queued + spans.length > maxQueued) {
        return Promise.reject(
          new PipelineError(
            'SINK_FAILED',
            `The sink queue is full (${queued} spans waiting for ClickHouse). Retry later.`,
            { retriable: true },
          ),
        );
      }
      return new Promise<SinkWriteResult>((resolve, reject) => {
        queue.push({ spans, resolve, reject });
        queued += spans.length;
        if (queued >= maxSpans) void flushNow();
        else timer ??= setTimeout(() => void flushNow(), maxWaitMs);
      });
    },
    flush: () => flushNow(),
    storedBatches: () => storedCount,
    async close() {
      closed = true;
      await flushNow();
    },
  };
}
