import type { SpanRecord } from '../model.js';

/** A Kafka message that can never be processed: it goes to the dead-letter topic. */
export class PoisonMessageError extends Error {
  readonly code = 'POISON_MESSAGE' as const;
  readonly retriable = false as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PoisonMessageError';
  }
}

const BIGINT_FIELDS = ['startTimeUnixNano', 'endTimeUnixNano', 'reportedCostNanos'] as const;

/** A span record as a plain object with 64-bit values as decimal strings (no replacer: faster). */
function toJsonable(r: SpanRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k in r) {
    const v = (r as unknown as Record<string, unknown>)[k];
    o[k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return o;
}

/** A span record as JSON for the session-keyed topic (64-bit values as decimal strings). */
export function encodeSpanRecord(r: SpanRecord): Buffer {
  return Buffer.from(JSON.stringify(toJsonable(r)));
}

/**
 * Several span records of one session as one message (a JSON array): Kafka's cost is per message,
 * so a batch's spans travel grouped by session, in order.
 */
export function encodeSpanRecords(rs: readonly SpanRecord[]): Buffer {
  return Buffer.from(JSON.stringify(rs.map(toJsonable)));
}

/** Span records of a session-topic message: one record (an object) or several (an array). */
export function decodeSpanRecords(bytes: Buffer | null): SpanRecord[] {
  if (!bytes) throw new PoisonMessageError('empty message value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError(
      `not a JSON span record: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  return Array.isArray(parsed) ? parsed.map(checkRecord) : [checkRecord(parsed)];
}

export function decodeSpanRecord(bytes: Buffer | null): SpanRecord {
  const [first, ...rest] = decodeSpanRecords(bytes);
  if (!first || rest.length > 0)
    throw new PoisonMessageError(
      'expected one span record, got ' + String(rest.length + (first ? 1 : 0)),
    );
  return first;
}

function checkRecord(parsed: unknown): SpanRecord {
  const o = parsed as Record<string, unknown>;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.traceId !== 'string' ||
    typeof o.spanId !== 'string' ||
    typeof o.spanType !== 'string'
  ) {
    throw new PoisonMessageError('not a span record: traceId, spanId and spanType are required');
  }
  for (const f of BIGINT_FIELDS) {
    const v = o[f];
    if (v === null || v === undefined) {
      if (f !== 'reportedCostNanos') throw new PoisonMessageError(`span record without ${f}`);
      o[f] = null;
    } else if (typeof v === 'string' && /^-?\d+$/.test(v)) o[f] = BigInt(v);
    else
      throw new PoisonMessageError(
        `span record ${f}=${JSON.stringify(v)} is not an integer string`,
      );
  }
  return o as unknown as SpanRecord;
}

/** Session-affine key: every span of a session lands on one partition, in order. */
export const sessionKey = (r: SpanRecord): string => r.sessionId || `trace:${r.traceId}`;
