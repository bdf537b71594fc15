/**
 * What the store refusing rows means. A refusal caused by the rows themselves (a value ClickHouse
 * cannot parse or hold, a constraint) is permanent: retrying the same rows fails the same way, so
 * the sink splits the batch and sets those rows aside. Anything else (the server down, a timeout,
 * too many parts) is transient and the batch is retried whole.
 */
import type { PricedSpan } from '../model.js';
import { isClickHouseDataError, messageOf } from '@harness-meter/queries';
import { toSpanRow } from './rows.js';

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
