import type { ClickHouseClient } from '@harness-meter/queries';
import { messageOf } from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PricedSpan } from '../model.js';
import { deadLetterRow, insertRefusingBadRows, type RefusedSpan } from './refusals.js';
import { createStoredKeys } from './dedup.js';
import { insertSpans, type SpanInsertOptions } from './insert-spans.js';
import { spanKey } from './rows.js';

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
  /** Largest batch one insert takes when spans queued up while the previous insert ran. */
  maxBatchSpans?: number;
  /**
   * Refuse writes (retriable, HTTP 503) beyond this many spans waiting or being stored: memory
   * stays bounded.
   */
  maxQueuedSpans?: number;
  /**
   * Keep a Bloom filter of stored span keys so that only keys that may be stored are looked up
   * (a batch of new spans costs no read). Only sound when this sink is the only writer of the
   * spans table (chDB, whose folder lock guarantees it); the filter is seeded from the stored keys
   * in the background, and every key is looked up until that is done. @default false
   */
  keyFilter?: boolean | { bits?: number };
  /** Called once the key filter holds every stored key (with their number). */
  onKeyFilterSeeded?: (keys: number) => void;
  /** See StoredKeysOptions.savedFilter (only with `keyFilter`). @default unset */
  savedFilter?: string;
  /** See StoredKeysOptions.saveEveryMs. @default DEDUP_DEFAULTS.saveEveryMs */
  saveEveryMs?: number;
  /** Where refused spans go. @default insert into `<db>.rejected_spans` */
  deadLetter?: DeadLetterHandler;
  /** Called with the number of spans refused by the store (for a counter). */
  onRefused?: (count: number) => void;
  /**
   * ClickHouse settings of the spans insert, over `SINK_INSERT_SETTINGS`.
   * @default SINK_INSERT_SETTINGS
   */
  insertSettings?: Record<string, string | number>;
  /** The insert format on chDB (HM_CHDB_INSERT_FORMAT). @default { format: 'compact' } */
  insertFormat?: SpanInsertOptions;
  logger?: Logger;
}

/**
 * Settings of every spans insert. `optimize_on_insert: 0`: ReplacingMergeTree (spans) and the
 * rollups' Summing/AggregatingMergeTree would otherwise sort and collapse each inserted block on
 * the way in; the sink already drops duplicates before inserting, merges still collapse whatever
 * slips through (reports read spans with FINAL, rollups with sum/GROUP BY), and the materialized
 * views' own GROUP BY already aggregates their blocks. bench/ingest-ceiling.js measures it.
 */
export const SINK_INSERT_SETTINGS: Readonly<Record<string, string | number>> = {
  optimize_on_insert: 0,
};

/**
 * Extra insert settings for chDB in the embedded server (2 cores shared with the receiver, whose
 * main thread decodes and prices the next requests while an insert runs): parse and write each
 * insert on one thread. A 6,000-row insert into spans with its views: median 916 ms with the
 * defaults, 599 ms with `optimize_on_insert: 0`, 482 ms with these as well (16 inserts each,
 * interleaved, load average 15-18 on 2 cores), about what dropping every view saves.
 */
export const CHDB_INSERT_SETTINGS: Readonly<Record<string, string | number>> = {
  max_threads: 1,
  max_insert_threads: 1,
  input_format_parallel_parsing: 0,
};

export const SINK_DEFAULTS = {
  maxSpans: 5000,
  maxWaitMs: 200,
  maxBatchSpans: 50_000,
  maxQueuedSpans: 200_000,
} as const;

interface Waiter {
  spans: readonly PricedSpan[];
  resolve: (r: SinkWriteResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Creates the ClickHouse sink. Idempotence: within a batch duplicates are dropped, and spans whose
 * (TraceId, SpanId) is already stored are skipped, so a redelivered span counts once in the
 * spans table and in every rollup fed from it. One insert runs at a time; spans that arrive
 * meanwhile queue up and go together in the next insert (up to `maxBatchSpans`), so batches grow
 * with the load while decoding and pricing go on beside the insert.
 */
export function createSpanSink(client: ClickHouseClient, options: SpanSinkOptions): SpanSink {
  const maxSpans = options.maxSpans ?? SINK_DEFAULTS.maxSpans;
  const maxWaitMs = options.maxWaitMs ?? SINK_DEFAULTS.maxWaitMs;
  const maxBatch = Math.max(maxSpans, options.maxBatchSpans ?? SINK_DEFAULTS.maxBatchSpans);
  const maxQueued = options.maxQueuedSpans ?? SINK_DEFAULTS.maxQueuedSpans;
  const log = options.logger ?? silentLogger;
  const db = options.db;
  const insertSettings = {
    ...SINK_INSERT_SETTINGS,
    ...options.insertSettings,
    log_comment: 'harness-meter sink insert',
  };
  let queue: Waiter[] = [];
  /** Spans in `queue`. */
  let queued = 0;
  /** Spans in the insert now running. */
  let storing = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  let storedCount = 0;
  const dedup = createStoredKeys(client, {
    db,
    keyFilter: options.keyFilter,
    onKeyFilterSeeded: options.onKeyFilterSeeded,
    savedFilter: options.savedFilter,
    saveEveryMs: options.saveEveryMs,
    logger: log,
  });

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

  /** Inserts spans; spans the store refuses for their data come back, the rest are stored. */
  const insertSplitting = (spans: PricedSpan[]): Promise<RefusedSpan[]> =>
    insertRefusingBadRows(spans, (part) =>
      insertSpans(client, `${db}.spans`, part, insertSettings, options.insertFormat),
    ).then((refused) => refused.map((r) => ({ span: r.item, reason: r.reason })));

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
    const stored = await dedup.storedKeys(unique);
    // Keys are built anew per call (and flattened to be hashed): none stored, no second pass.
    const fresh = stored.size === 0 ? unique : unique.filter((s) => !stored.has(spanKey(s)));
    let refused: RefusedSpan[] = [];
    if (fresh.length > 0) {
      storedCount++;
      const started = Date.now();
      // storedKeys already put these keys in the key filter (also for a retry after a failure).
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
    // Every span new and stored (the common case): each waiter's spans were all inserted.
    if (refused.length === 0 && fresh.length === total) {
      for (const w of batch)
        w.resolve({ inserted: w.spans.length, duplicates: 0, refused: 0, reasons: [] });
      return;
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

  /** Takes the oldest queued writes, up to `maxBatch` spans (at least one write). */
  function takeBatch(): Waiter[] {
    let n = 0;
    let i = 0;
    while (i < queue.length && (i === 0 || n + queue[i]!.spans.length <= maxBatch)) {
      n += queue[i]!.spans.length;
      i++;
    }
    const batch = queue.slice(0, i);
    queue = queue.slice(i);
    queued -= n;
    storing = n;
    return batch;
  }

  /** Stores one batch (unless one is running), then goes on while enough spans are queued. */
  function kick(): Promise<void> {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (running !== undefined || queue.length === 0) return running ?? Promise.resolve();
    const batch = takeBatch();
    running = (async () => {
      try {
        await store(batch);
      } catch (err) {
        log.warn('sink batch failed', { spans: storing, error: messageOf(err) });
        const error = new PipelineError(
          'SINK_FAILED',
          `Storing spans in ClickHouse failed: ${messageOf(err)}. Retry the request.`,
          { retriable: true, cause: err },
        );
        for (const w of batch) w.reject(error);
      } finally {
        running = undefined;
        storing = 0;
        // Spans that queued up during the insert: at once when a batch is full, else on the timer.
        if (queued >= maxSpans) void kick();
        else if (queued > 0) timer ??= setTimeout(() => void kick(), maxWaitMs);
      }
    })();
    return running;
  }

  /**
   * Resolves once every write queued when it was called is stored (or failed); writes that arrive
   * meanwhile do not hold it up, so a flush under sustained load still ends.
   */
  async function flushAll(): Promise<void> {
    const last = queue.at(-1);
    if (last !== undefined) while (queue.includes(last)) await (running ?? kick());
    await running;
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
      if (queued + storing + spans.length > maxQueued) {
        return Promise.reject(
          new PipelineError(
            'SINK_FAILED',
            `The sink queue is full (${queued + storing} spans waiting for ClickHouse). Retry later.`,
            { retriable: true },
          ),
        );
      }
      return new Promise<SinkWriteResult>((resolve, reject) => {
        queue.push({ spans, resolve, reject });
        queued += spans.length;
        if (queued >= maxSpans) void kick();
        else timer ??= setTimeout(() => void kick(), maxWaitMs);
      });
    },
    flush: () => flushAll(),
    storedBatches: () => storedCount,
    async close() {
      closed = true;
      await flushAll();
      await dedup.close();
    },
  };
}
