/**
 * The embedded sink with a write-ahead log (HM_INGEST_WAL): a write appends the request's rows to
 * the log and resolves once an fsync covered them (200 = durable, not yet stored); a drain, one
 * insert at a time, takes everything appended since the last insert (up to a cap), drops what is
 * stored already (the same dedup as the direct sink), inserts, then records the log position as
 * its checkpoint. A crash between insert and checkpoint replays rows the dedup then filters out,
 * so each span is stored once.
 */
import type { ClickHouseClient } from '@harness-meter/queries';
import { tmpdir } from 'node:os';
import {
  chdbInsertTempDir,
  insertCompactText,
  insertFileRows,
  isChdbStore,
  messageOf,
} from '@harness-meter/queries';
import { PipelineError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { WriteAheadLog } from '../wal/log.js';
import { createStoredKeys, type SpanRef } from './dedup.js';
import { deadLetterTextRow, insertRefusingBadRows, isRowDataError } from './refusals.js';
import { SPAN_COLUMNS, spanKey } from './rows.js';
import { SINK_INSERT_SETTINGS, type SinkWriteResult, type SpanSink } from './sink.js';
import {
  decodeSpanRecord,
  encodeSpanRecord,
  encodeSpanRecordBinary,
  recordRows,
  splitRows,
} from './wal-records.js';
import type { SpanInsertOptions } from './insert-spans.js';
import { SPAN_ROWBINARY_STRUCTURE, rowBinaryToSpanValues } from './rowbinary.js';

const NEWLINE = Buffer.from('\n');

/** A refused RowBinary row as the JSON text row a text record would hold (its dead-letter sample). */
function binarySample(row: Buffer): string {
  try {
    return JSON.stringify(rowBinaryToSpanValues(row));
  } catch (err) {
    return `RowBinary row (base64, unreadable: ${messageOf(err)}): ${row.toString('base64')}`;
  }
}

export const WAL_SINK_DEFAULTS = {
  /** Bytes of log not yet stored above which writes get a retriable refusal (503). */
  maxBytes: 512 * 1024 * 1024,
  /**
   * Bytes of log one insert takes at most (about 0.9 KB per span of the bench's spans, so ~55,000
   * spans). HM_BENCH=ingest-ceiling under load: no gain above ~25,000 rows per insert; the cap also
   * bounds memory and how long a stop waits for the insert in flight.
   */
  maxBatchBytes: 48 * 1024 * 1024,
  /** Below this backlog an idle drain waits `maxWaitMs` for more before inserting. */
  minBatchBytes: 4 * 1024 * 1024,
  maxWaitMs: 200,
  /** Longest a read barrier (a report after a 200) waits for the drain. */
  barrierTimeoutMs: 30_000,
  /** Longest `close` keeps draining; what is left is replayed at the next start. */
  closeBudgetMs: 3_000,
  retry: { initialMs: 500, maxMs: 10_000 },
} as const;

export interface WalSinkOptions {
  db: string;
  log: WriteAheadLog;
  /** @default WAL_SINK_DEFAULTS.maxBytes */
  maxBytes?: number;
  /** @default WAL_SINK_DEFAULTS.maxBatchBytes */
  maxBatchBytes?: number;
  /** @default WAL_SINK_DEFAULTS.minBatchBytes */
  minBatchBytes?: number;
  /** @default WAL_SINK_DEFAULTS.maxWaitMs */
  maxWaitMs?: number;
  /** @default WAL_SINK_DEFAULTS.barrierTimeoutMs */
  barrierTimeoutMs?: number;
  /** @default WAL_SINK_DEFAULTS.closeBudgetMs */
  closeBudgetMs?: number;
  /** See SpanSinkOptions.keyFilter. @default false */
  keyFilter?: boolean | { bits?: number };
  onKeyFilterSeeded?: (keys: number) => void;
  /** See StoredKeysOptions.savedFilter (only with `keyFilter`). @default unset */
  savedFilter?: string;
  /** Called after each stored batch, with its counts (metrics). */
  onStored?: (r: { inserted: number; duplicates: number; refused: number }) => void;
  /** ClickHouse settings of the spans insert, over `SINK_INSERT_SETTINGS`. */
  insertSettings?: Record<string, string | number>;
  /**
   * The insert format on chDB (HM_CHDB_INSERT_FORMAT): with `rowbinary`, requests are logged as
   * RowBinary records and inserted through file(). Text records in the log are read either way.
   * @default { format: 'compact' }
   */
  insertFormat?: SpanInsertOptions;
  logger?: Logger;
}

/** The direct sink's interface, plus what the log adds. */
export interface WalSpanSink extends SpanSink {
  /** Log bytes appended and not yet stored. */
  backlogBytes(): number;
}

interface BarrierWaiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

const NOTHING: SinkWriteResult = Object.freeze({
  inserted: 0,
  duplicates: 0,
  refused: 0,
  reasons: Object.freeze([]) as unknown as string[],
});

/**
 * Creates the write-ahead sink over an opened log; the drain starts at the log's checkpoint, so
 * whatever an earlier run acknowledged and did not store is replayed first.
 */
export function createWalSpanSink(client: ClickHouseClient, options: WalSinkOptions): WalSpanSink {
  const d = WAL_SINK_DEFAULTS;
  const wal = options.log;
  const maxBytes = options.maxBytes ?? d.maxBytes;
  const maxBatchBytes = options.maxBatchBytes ?? d.maxBatchBytes;
  const minBatchBytes = options.minBatchBytes ?? d.minBatchBytes;
  const maxWaitMs = options.maxWaitMs ?? d.maxWaitMs;
  const barrierTimeoutMs = options.barrierTimeoutMs ?? d.barrierTimeoutMs;
  const closeBudgetMs = options.closeBudgetMs ?? d.closeBudgetMs;
  const log = options.logger ?? silentLogger;
  const db = options.db;
  const insertSettings = {
    ...SINK_INSERT_SETTINGS,
    ...options.insertSettings,
    log_comment: 'harness-meter sink insert (write-ahead log)',
  };
  const dedup = createStoredKeys(client, {
    db,
    keyFilter: options.keyFilter,
    onKeyFilterSeeded: options.onKeyFilterSeeded,
    savedFilter: options.savedFilter,
    logger: log,
  });
  /** Everything below is stored (equals the log's checkpoint once recorded). */
  let position = wal.checkpoint;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;
  /** Set once close stops the drain: no new batch starts. */
  let stopped = false;
  let storedCount = 0;
  let waiters: BarrierWaiter[] = [];
  const appending = new Set<Promise<unknown>>();
  /** Requests are logged as RowBinary (HM_CHDB_INSERT_FORMAT=rowbinary on chDB). */
  const logBinary =
    options.insertFormat?.format === 'rowbinary' &&
    options.insertFormat.tempDir !== undefined &&
    isChdbStore(client);
  // RowBinary records an earlier run logged are replayed through file() whatever the format now.
  const binaryTempDir = options.insertFormat?.tempDir ?? chdbInsertTempDir(tmpdir());

  /** Inserts one batch's fresh rows; refused rows (their data) go to rejected_spans. */
  async function insertRows(
    refs: SpanRef[],
    rows: Buffer[],
    format: 'compact' | 'rowbinary',
    /** RowBinary: the row lengths inside each of `rows`. */
    lengths: number[][] = [],
  ): Promise<number> {
    if (refs.length === 0) return 0;
    const binary = format === 'rowbinary';
    // RowBinary chunks go to the temp file as they are (written with writev, never joined).
    const insert = (chunks: Buffer[]): Promise<void> =>
      binary
        ? insertFileRows(client, {
            table: `${db}.spans`,
            columns: SPAN_COLUMNS,
            bytes: chunks,
            structure: SPAN_ROWBINARY_STRUCTURE,
            tempDir: binaryTempDir,
            clickhouse_settings: insertSettings,
          })
        : insertCompactText(client, {
            table: `${db}.spans`,
            columns: SPAN_COLUMNS,
            text: Buffer.concat(chunks),
            clickhouse_settings: insertSettings,
          });
    try {
      await insert(rows);
      return 0;
    } catch (err) {
      if (!isRowDataError(err)) throw err;
    }
    // Some rows are refused for their data: find them row by row (rare), store the rest.
    const lines = binary
      ? rows.flatMap((chunk, i) => recordRows({ rows: chunk, rowLengths: lengths[i]! }))
      : rows.flatMap((chunk) => splitRows(chunk));
    const items = lines.map((line, i) => ({ line, ref: refs[i]! }));
    const refused = await insertRefusingBadRows(items, (part) =>
      insert(binary ? part.map((p) => p.line) : part.flatMap((p) => [p.line, NEWLINE])),
    );
    if (refused.length === 0) return 0;
    log.warn('sink refused spans set aside', {
      spans: refused.length,
      reason: refused[0]?.reason.slice(0, 300),
    });
    try {
      await client.insert({
        table: `${db}.rejected_spans`,
        values: refused.map((r) =>
          deadLetterTextRow(
            r.item.ref,
            binary ? binarySample(r.item.line) : r.item.line.toString('utf8'),
            r.reason,
            'sink',
          ),
        ),
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter sink dead letters' },
      });
    } catch (err) {
      log.error('dead-lettering refused spans failed', {
        spans: refused.length,
        error: messageOf(err),
      });
    }
    return refused.length;
  }

  /** Dedups and stores the records' rows; counts for metrics. */
  async function store(records: Buffer[]): Promise<void> {
    const decoded = records.map(decodeSpanRecord);
    // Each span's key, built once: the batch's own dedup and the fresh-row pass below both read it.
    const keys = decoded.map((r) => r.refs.map(spanKey));
    const seen = new Set<string>();
    const unique: SpanRef[] = [];
    let total = 0;
    decoded.forEach((r, at) => {
      total += r.refs.length;
      r.refs.forEach((ref, i) => {
        const k = keys[at]![i]!;
        if (seen.has(k)) return;
        seen.add(k);
        unique.push(ref);
      });
    });
    const stored = await dedup.storedKeys(unique);
    // Fresh rows: whole records where nothing is a duplicate (the common case), else row by row.
    const taken = new Set<string>();
    // Text and RowBinary records (both can be in one log) go in one insert per format.
    const fresh = {
      compact: { refs: [] as SpanRef[], rows: [] as Buffer[], lengths: [] as number[][] },
      rowbinary: { refs: [] as SpanRef[], rows: [] as Buffer[], lengths: [] as number[][] },
    };
    for (const [at, r] of decoded.entries()) {
      const keep = keys[at]!.map((k) => {
        if (stored.has(k) || taken.has(k)) return false;
        taken.add(k);
        return true;
      });
      const into = fresh[r.format];
      if (keep.every(Boolean)) {
        into.refs.push(...r.refs);
        into.rows.push(r.rows);
        if (r.rowLengths !== undefined) into.lengths.push(r.rowLengths);
        continue;
      }
      const lines = recordRows(r);
      for (let i = 0; i < lines.length; i++) {
        if (!keep[i]) continue;
        into.refs.push(r.refs[i]!);
        if (r.format === 'compact') into.rows.push(lines[i]!, NEWLINE);
        else {
          into.rows.push(lines[i]!);
          into.lengths.push([lines[i]!.length]);
        }
      }
    }
    const freshRefs = [...fresh.compact.refs, ...fresh.rowbinary.refs];
    let refused = 0;
    if (freshRefs.length > 0) {
      storedCount++;
      const started = Date.now();
      // storedKeys already put these keys in the key filter (also for a retry after a failure).
      refused += await insertRows(fresh.compact.refs, fresh.compact.rows, 'compact');
      const bin = fresh.rowbinary;
      refused += await insertRows(bin.refs, bin.rows, 'rowbinary', bin.lengths);
      log.debug('sink batch stored', {
        spans: freshRefs.length - refused,
        refused,
        duplicates: total - freshRefs.length,
        ms: Date.now() - started,
      });
    }
    options.onStored?.({
      inserted: freshRefs.length - refused,
      duplicates: total - freshRefs.length,
      refused,
    });
  }

  /** Reads up to `maxBatchBytes` of durable records from `position`, stores them, checkpoints. */
  async function drainBatch(): Promise<void> {
    const records: Buffer[] = [];
    let bytes = 0;
    let at = position;
    while (bytes < maxBatchBytes && at < wal.durableEnd) {
      const r = await wal.read(at, maxBatchBytes - bytes);
      if (r.records.length === 0) break;
      for (const rec of r.records) {
        records.push(rec);
        bytes += rec.length;
      }
      at = r.next;
    }
    if (records.length === 0) return;
    await store(records);
    await wal.commit(at);
    position = at;
    const done = waiters.filter((w) => w.target <= position);
    if (done.length > 0) {
      waiters = waiters.filter((w) => w.target > position);
      for (const w of done) {
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Starts a batch unless one runs; an idle drain with a small backlog waits `maxWaitMs` first. */
  function kick(now = false): void {
    if (running !== undefined || stopped || position >= wal.durableEnd) return;
    const small = wal.durableEnd - position < minBatchBytes && waiters.length === 0;
    if (small && !now) {
      timer ??= setTimeout(() => {
        timer = undefined;
        kick(true);
      }, maxWaitMs);
      return;
    }
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    running = drainBatch().then(
      () => {
        failures = 0;
        running = undefined;
        kick();
      },
      (err: unknown) => {
        failures++;
        running = undefined;
        const waitMs = Math.min(d.retry.maxMs, d.retry.initialMs * 2 ** (failures - 1));
        log.warn('sink batch from the write-ahead log failed; retrying', {
          error: messageOf(err),
          retryInMs: waitMs,
        });
        timer = setTimeout(() => {
          timer = undefined;
          kick(true);
        }, waitMs);
      },
    );
  }

  // Replay what an earlier run acknowledged and did not store.
  if (wal.durableEnd > position) {
    log.info('replaying the ingest write-ahead log', { bytes: wal.durableEnd - position });
    kick(true);
  }

  /** Resolves once everything appended before the call is stored; typed error after the bound. */
  function barrier(): Promise<void> {
    const target = wal.end;
    if (position >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w.timer !== timer);
        reject(
          new PipelineError(
            'STORE_BEHIND',
            `Spans acknowledged before this request are not all stored after ${barrierTimeoutMs} ms ` +
              `(${target - position} bytes of the ingest write-ahead log left). Retry shortly.`,
            { retriable: true },
          ),
        );
      }, barrierTimeoutMs);
      waiters.push({ target, resolve, reject, timer });
      kick(true);
    });
  }

  return {
    async write(spans) {
      if (closed)
        throw new PipelineError(
          'SINK_FAILED',
          'The sink is closed (the server is stopping). Retry later.',
          { retriable: true },
        );
      if (spans.length === 0) return NOTHING;
      const record =
        (logBinary ? encodeSpanRecordBinary(spans) : undefined) ?? encodeSpanRecord(spans);
      const backlog = wal.end - position;
      if (backlog > 0 && backlog + record.length > maxBytes)
        throw new PipelineError(
          'SINK_FAILED',
          `The ingest write-ahead log holds ${backlog} bytes not yet stored (HM_INGEST_WAL_MAX_BYTES=${maxBytes}). Retry later.`,
          { retriable: true },
        );
      const appended = wal.append(record);
      appending.add(appended);
      try {
        await appended;
      } catch (err) {
        throw new PipelineError(
          'SINK_FAILED',
          `Writing the ingest write-ahead log failed: ${messageOf(err)}. Retry later.`,
          { retriable: true, cause: err },
        );
      } finally {
        appending.delete(appended);
      }
      kick();
      return NOTHING;
    },
    flush: barrier,
    storedBatches: () => storedCount,
    backlogBytes: () => wal.end - position,
    async close() {
      closed = true;
      await Promise.allSettled([...appending]);
      const deadline = Date.now() + closeBudgetMs;
      // Drain while the budget lasts; a failure or the deadline leaves the rest for replay.
      while (position < wal.durableEnd && Date.now() < deadline) {
        if (timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
        }
        const before = failures;
        if (running === undefined) kick(true);
        await running;
        if (failures > before) break;
      }
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
      await dedup.close();
      const left = wal.durableEnd - position;
      if (left > 0)
        log.warn('ingest write-ahead log not fully stored at stop; the next start replays it', {
          bytes: left,
        });
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(
          new PipelineError('STORE_BEHIND', 'The server is stopping. Retry later.', {
            retriable: true,
          }),
        );
      }
      waiters = [];
      await wal.close();
    },
  };
}
