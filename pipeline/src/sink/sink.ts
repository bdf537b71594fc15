import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PricedSpan } from '../model.js';
import { spanKey, toSpanRow } from './rows.js';

/** Outcome of a write: how many spans were new, and how many were already stored. */
export interface SinkWriteResult {
  inserted: number;
  duplicates: number;
}

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
    if (fresh.length > 0) {
      storedCount++;
      const started = Date.now();
      await client.insert({
        table: `${db}.spans`,
        values: fresh.map(toSpanRow),
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink insert' },
      });
      log.debug('sink batch stored', {
        spans: fresh.length,
        duplicates: total - fresh.length,
        ms: Date.now() - started,
      });
    }
    // Per-waiter accounting: a waiter's span is "inserted" if this batch stored it for the first time.
    const insertedKeys = new Set(fresh.map(spanKey));
    for (const w of batch) {
      let inserted = 0;
      for (const s of w.spans) {
        if (insertedKeys.delete(spanKey(s))) inserted++;
      }
      w.resolve({ inserted, duplicates: w.spans.length - inserted });
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
      if (spans.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
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
