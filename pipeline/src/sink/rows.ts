import type { PricedSpan } from '../model.js';

/**
 * `YYYY-MM-DD hh:mm:ss.` of recent seconds, direct-mapped by the second: the spans of a batch fall in
 * few seconds, and a Date with its ISO text per time was the dearest part of a row.
 */
const SECOND_SLOTS = 64;
const slotSecond = new Float64Array(SECOND_SLOTS).fill(-1);
const slotPrefix: string[] = new Array<string>(SECOND_SLOTS).fill('');

/** Formats Unix-epoch nanoseconds as a ClickHouse DateTime64(9) literal in UTC. */
export function nanosToDateTime64(nanos: bigint): string {
  if (nanos >= 0n) {
    const sec = nanos / 1_000_000_000n;
    const frac = Number(nanos - sec * 1_000_000_000n);
    const second = Number(sec);
    const slot = second & (SECOND_SLOTS - 1);
    if (slotSecond[slot] !== second) {
      const iso = new Date(second * 1000).toISOString();
      slotPrefix[slot] = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
      slotSecond[slot] = second;
    }
    return slotPrefix[slot]! + String(1_000_000_000 + frac).slice(1);
  }
  const ms = nanos / 1_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-24T06:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

const big = (v: bigint | null): string | null => (v === null ? null : v.toString());

/** The stable identity of a span: the same span delivered twice has the same key. */
export const spanKey = (s: { traceId: string; spanId: string }): string =>
  `${s.traceId}:${s.spanId}`;

/** The `spans` columns the sink writes, in the order of `toSpanValues`. */
export const SPAN_COLUMNS: readonly string[] = [
  'Timestamp',
  'EndTimestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ScopeName',
  'ResourceAttributes',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'span_type',
  'operation',
  'provider',
  'request_model',
  'response_model',
  'model',
  'session_id',
  'developer',
  'team',
  'repo',
  'branch',
  'commit',
  'pr',
  'intent',
  'source',
  'key_id',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'cache_write_5m_tokens',
  'cache_write_1h_tokens',
  'reasoning_tokens',
  'reported_cost_nanos',
  'usage_check',
  'price_id',
  'cost_nanos',
  'input_cost_nanos',
  'output_cost_nanos',
  'cache_read_cost_nanos',
  'cache_write_cost_nanos',
  'unpriced',
  'tool_name',
  'tool_call_id',
  'tool_class',
  'args_hash',
  'target_hash',
  'result_bytes',
  'result_tokens',
  'is_error',
];

/**
 * One `spans` row as positional values (JSONCompactEachRow, columns `SPAN_COLUMNS`): no per-row
 * key strings to build or for ClickHouse to match, about half the bytes of JSONEachRow.
 */
export function toSpanValues(s: PricedSpan): unknown[] {
  const duration =
    s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano - s.startTimeUnixNano : 0n;
  return [
    nanosToDateTime64(s.startTimeUnixNano),
    nanosToDateTime64(s.endTimeUnixNano),
    s.traceId,
    s.spanId,
    s.parentSpanId,
    s.name,
    s.kind,
    s.serviceName,
    s.scopeName,
    s.resourceAttributes,
    s.spanAttributes,
    duration.toString(),
    s.statusCode,
    s.statusMessage,
    s.spanType,
    s.operation,
    s.provider,
    s.requestModel,
    s.responseModel,
    s.responseModel || s.requestModel,
    s.sessionId,
    s.developer,
    s.team,
    s.repo,
    s.branch,
    s.commit,
    s.pr,
    s.intent,
    s.source,
    s.keyId ?? '',
    s.inputTokens,
    s.outputTokens,
    s.cacheReadTokens,
    s.cacheWriteTokens,
    s.cacheWrite5mTokens,
    s.cacheWrite1hTokens,
    s.reasoningTokens,
    big(s.reportedCostNanos),
    s.usageCheck ?? '',
    s.priceId,
    big(s.costNanos),
    big(s.inputCostNanos),
    big(s.outputCostNanos),
    big(s.cacheReadCostNanos),
    big(s.cacheWriteCostNanos),
    s.unpriced ? 1 : 0,
    s.toolName,
    s.toolCallId,
    s.toolClass,
    s.argsHash,
    s.targetHash,
    s.resultBytes,
    s.resultTokens,
    s.isError ? 1 : 0,
  ];
}

/** One `spans` table row as an object (JSONEachRow; the dead-letter sample). */
export function toSpanRow(s: PricedSpan): Record<string, unknown> {
  const values = toSpanValues(s);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < SPAN_COLUMNS.length; i++) row[SPAN_COLUMNS[i]!] = values[i];
  return row;
}
