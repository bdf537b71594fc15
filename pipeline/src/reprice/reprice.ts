/**
 * Re-pricing stored LLM calls after the price data or the overrides changed: each call is priced
 * again at the prices in force at its start time, and a call whose price row or cost changed is
 * inserted again as a new version of the same (TraceId, SpanId) (row_version + 1, the replaced
 * cost in prev_cost_nanos / prev_unpriced). Raw usage is never modified.
 *
 * The rollup stays exact: migration 0003's usage_by_minute_reprice_mv turns each new version
 * into a delta row (new cost − replaced cost, change in unpriced calls) inside the same insert.
 * Idempotent: a second run finds nothing to change. Resumable: calls are walked in (start time,
 * TraceId, SpanId) order, one bounded page per insert; after a crash, a new run re-reads the
 * current versions and changes only what is still stale.
 */
import { serviceTierOf } from '../price/service-tiers.js';
import { webSearchesOf } from '../price/book.js';
import type { ClickHouseClient } from '@harness-meter/queries';
import {
  StoreError,
  assertDatabaseName,
  messageOf,
  toClickHouseTime,
} from '@harness-meter/queries';
import { silentLogger, type Logger } from '../logger.js';
import type { PriceBook } from '../price/index.js';

export interface RepriceOptions {
  db: string;
  /** Only calls that started at or after this time (default: all). */
  since?: Date;
  /** Only calls that started before this time (default: no bound). */
  until?: Date;
  /** Only calls of this model (the stored `model` or `request_model`, exactly). */
  model?: string;
  /** Calls read, priced and written per page. */
  batchSize?: number;
  logger?: Logger;
  /** Called after each page is written (progress). */
  onPage?: (progress: RepriceResult) => void;
}

export const REPRICE_DEFAULTS = { batchSize: 5000 } as const;

export interface RepriceResult {
  /** LLM calls looked at (their current versions). */
  scanned: number;
  /** Calls whose price row or cost changed: a new version was stored. */
  changed: number;
  /** Of those, calls that had no price and now have one. */
  nowPriced: number;
  /** Of those, calls that had a price and now have none (a price removed from the overrides). */
  nowUnpriced: number;
  /** Sum over changed calls of new cost − old cost (an unknown cost counts 0), integer nano-USD. */
  deltaNanos: bigint;
  pages: number;
}

type Row = Record<string, unknown>;

const FAR_FUTURE = new Date('2200-01-01T00:00:00Z');

/** A JSONEachRow scalar as text (64-bit integers arrive quoted). */
const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? v.toString() : '';
const nullableBig = (v: unknown): bigint | null =>
  v === null || v === undefined ? null : BigInt(str(v));

/**
 * Recomputes stored costs with `book`, and reports how many calls changed and by how much.
 * @example const r = await repriceStoredCosts(client, loadPriceBook(file), { db: 'harness_meter' });
 */
export async function repriceStoredCosts(
  client: ClickHouseClient,
  book: PriceBook,
  options: RepriceOptions,
): Promise<RepriceResult> {
  const { db } = options;
  assertDatabaseName(db);
  const batchSize = options.batchSize ?? REPRICE_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1_000_000)
    throw new StoreError('INVALID_ARGUMENT', `batchSize ${batchSize}: use 1 to 1,000,000.`);
  const log = options.logger ?? silentLogger;
  const result: RepriceResult = {
    scanned: 0,
    changed: 0,
    nowPriced: 0,
    nowUnpriced: 0,
    deltaNanos: 0n,
    pages: 0,
  };
  let after = { ns: '-1', trace: '', span: '' };
  for (;;) {
    let rows: Row[];
    try {
      const rs = await client.query({
        query: `SELECT *, toString(toUnixTimestamp64Nano(Timestamp)) AS start_ns
                FROM {db:Identifier}.spans
                WHERE span_type = 'llm'
                  AND Timestamp >= {since:DateTime64(3, 'UTC')}
                  AND Timestamp < {until:DateTime64(3, 'UTC')}
                  AND ({model:String} = '' OR model = {model:String} OR request_model = {model:String})
                  AND (toUnixTimestamp64Nano(Timestamp), TraceId, SpanId) > ({after_ns:Int64}, {after_trace:String}, {after_span:String})
                ORDER BY toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, row_version DESC
                LIMIT 1 BY TraceId, SpanId
                LIMIT {limit:UInt32}`,
        query_params: {
          db,
          since: toClickHouseTime(options.since ?? new Date(0)),
          until: toClickHouseTime(options.until ?? FAR_FUTURE),
          model: options.model ?? '',
          after_ns: after.ns,
          after_trace: after.trace,
          after_span: after.span,
          limit: batchSize,
        },
        format: 'JSONEachRow',
        clickhouse_settings: { log_comment: 'harness-meter reprice read' },
      });
      rows = await rs.json<Row>();
    } catch (err) {
      throw new StoreError('QUERY_FAILED', `Reprice could not read spans: ${messageOf(err)}`, {
        cause: err,
        retriable: true,
      });
    }
    if (rows.length === 0) break;
    const last = rows[rows.length - 1] as Row;
    after = { ns: str(last.start_ns), trace: str(last.TraceId), span: str(last.SpanId) };

    const versions: Row[] = [];
    for (const r of rows) {
      result.scanned++;
      const { row, cost } = book.priceCall({
        provider: str(r.provider),
        requestModel: str(r.request_model),
        responseModel: str(r.response_model),
        startTimeUnixNano: BigInt(str(r.start_ns)),
        serviceTier: serviceTierOf(r.SpanAttributes as Record<string, string> | undefined),
        webSearches: webSearchesOf(r.SpanAttributes as Record<string, string> | undefined),
        inputTokens: Number(r.input_tokens),
        outputTokens: Number(r.output_tokens),
        cacheReadTokens: Number(r.cache_read_tokens),
        cacheWriteTokens: Number(r.cache_write_tokens),
        cacheWrite5mTokens: Number(r.cache_write_5m_tokens),
        cacheWrite1hTokens: Number(r.cache_write_1h_tokens),
      });
      const next = {
        price_id: row?.id ?? '',
        cost_nanos: cost?.totalNanos ?? null,
        input_cost_nanos: cost?.inputNanos ?? null,
        output_cost_nanos: cost?.outputNanos ?? null,
        cache_read_cost_nanos: cost?.cacheReadNanos ?? null,
        cache_write_cost_nanos: cost?.cacheWriteNanos ?? null,
        unpriced: row === undefined ? 1 : 0,
      };
      const same =
        str(r.price_id) === next.price_id &&
        Number(r.unpriced) === next.unpriced &&
        (
          [
            'cost_nanos',
            'input_cost_nanos',
            'output_cost_nanos',
            'cache_read_cost_nanos',
            'cache_write_cost_nanos',
          ] as const
        ).every((k) => nullableBig(r[k]) === next[k]);
      if (same) continue;
      const oldCost = nullableBig(r.cost_nanos);
      result.changed++;
      if (Number(r.unpriced) === 1 && next.unpriced === 0) result.nowPriced++;
      if (Number(r.unpriced) === 0 && next.unpriced === 1) result.nowUnpriced++;
      result.deltaNanos += (next.cost_nanos ?? 0n) - (oldCost ?? 0n);
      const version: Row = { ...r };
      delete version.start_ns;
      const big = (v: bigint | null): string | null => (v === null ? null : v.toString());
      Object.assign(version, {
        price_id: next.price_id,
        cost_nanos: big(next.cost_nanos),
        input_cost_nanos: big(next.input_cost_nanos),
        output_cost_nanos: big(next.output_cost_nanos),
        cache_read_cost_nanos: big(next.cache_read_cost_nanos),
        cache_write_cost_nanos: big(next.cache_write_cost_nanos),
        unpriced: next.unpriced,
        row_version: Number(r.row_version) + 1,
        prev_cost_nanos: big(oldCost),
        prev_unpriced: Number(r.unpriced),
      });
      versions.push(version);
    }
    if (versions.length > 0) {
      try {
        await client.insert({
          table: `${db}.spans`,
          values: versions,
          format: 'JSONEachRow',
          clickhouse_settings: { log_comment: 'harness-meter reprice write' },
        });
      } catch (err) {
        throw new StoreError(
          'QUERY_FAILED',
          `Reprice could not store ${versions.length} re-priced span(s): ${messageOf(err)}. Run it again: it resumes where it stopped.`,
          { cause: err, retriable: true },
        );
      }
    }
    result.pages++;
    log.debug('reprice page', { scanned: result.scanned, changed: result.changed });
    options.onPage?.({ ...result });
    if (rows.length < batchSize) break;
  }
  return result;
}
