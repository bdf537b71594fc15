/**
 * What the store refusing rows means. A refusal caused by the rows themselves (a value ClickHouse
 * cannot parse or hold, a constraint) is permanent: retrying the same rows fails the same way, so
 * the sink splits the batch and sets those rows aside. Anything else (the server down, a timeout,
 * too many parts) is transient and the batch is retried whole.
 */
import type { PricedSpan } from '../model.js';
import { isClickHouseDataError, messageOf } from '@harness-meter/queries';
import { SPAN_COLUMNS, toSpanRow } from './rows.js';

/** Whether an insert error is caused by the rows (permanent), not by the store's state. */
export const isRowDataError = (err: unknown): boolean => isClickHouseDataError(err);

/** A span the store refused, set aside with the reason. */
export interface RefusedSpan {
  span: PricedSpan;
  reason: string;
}

/** Bytes of a refused row kept in the dead-letter table (its JSON, ASCII-safe, cut). */
export const DEAD_LETTER_SAMPLE_CHARS = 4096;

/** One `rejected_spans` row. The sample is JSON.stringify of the row: lone surrogates come out escaped. */
export function deadLetterRow(r: RefusedSpan, stage: string): Record<string, unknown> {
  let sample: string;
  try {
    sample = JSON.stringify(toSpanRow(r.span));
  } catch (err) {
    sample = `unserializable row: ${messageOf(err)}`;
  }
  return {
    stage,
    reason: r.reason.slice(0, 2000),
    trace_id: r.span.traceId.slice(0, 64),
    span_id: r.span.spanId.slice(0, 32),
    sample: sample.slice(0, DEAD_LETTER_SAMPLE_CHARS),
    sample_chars: sample.length,
  };
}

/**
 * Inserts items; when the store refuses them because of their data, splits them in halves until
 * the refused items are alone, stores the rest and returns the refused ones with the reason. A
 * transient failure (not caused by the rows) is thrown as it is, and the caller retries it whole.
 */
export async function insertRefusingBadRows<T>(
  items: readonly T[],
  insert: (items: readonly T[]) => Promise<void>,
): Promise<{ item: T; reason: string }[]> {
  try {
    await insert(items);
    return [];
  } catch (err) {
    if (!isRowDataError(err)) throw err;
    if (items.length === 1) return [{ item: items[0]!, reason: messageOf(err) }];
    const mid = items.length >>> 1;
    return [
      ...(await insertRefusingBadRows(items.slice(0, mid), insert)),
      ...(await insertRefusingBadRows(items.slice(mid), insert)),
    ];
  }
}

/** One `rejected_spans` row for a row kept as JSONCompactEachRow text (the write-ahead log). */
export function deadLetterTextRow(
  ref: { traceId: string; spanId: string },
  line: string,
  reason: string,
  stage: string,
): Record<string, unknown> {
  let sample: string;
  try {
    const values = JSON.parse(line) as unknown[];
    sample = JSON.stringify(Object.fromEntries(SPAN_COLUMNS.map((c, i) => [c, values[i]])));
  } catch {
    sample = line;
  }
  return {
    stage,
    reason: reason.slice(0, 2000),
    trace_id: ref.traceId.slice(0, 64),
    span_id: ref.spanId.slice(0, 32),
    sample: sample.slice(0, DEAD_LETTER_SAMPLE_CHARS),
    sample_chars: sample.length,
  };
}
