import type { PricedSpan } from '../model.js';

/** Formats Unix-epoch nanoseconds as a ClickHouse DateTime64(9) literal in UTC. */
export function nanosToDateTime64(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-24T06:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}`;
}

const big = (v: bigint | null): string | null => (v === null ? null : v.toString());

/** The stable identity of a span: the same span delivered twice has the same key. */
export const spanKey = (s: { traceId: string; spanId: string }): string =>
  `${s.traceId}:${s.spanId}`;

/** One `spans` table row (JSONEachRow) from a priced span. */
export function toSpanRow(s: PricedSpan): Record<string, unknown> {
  const duration =
    s.endTimeUnixNano > s.startTimeUnixNano ? s.endTimeUnixNano - s.startTimeUnixNano : 0n;
  return {
    Timestamp: nanosToDateTime64(s.startTimeUnixNano),
    EndTimestamp: nanosToDateTime64(s.endTimeUnixNano),
    TraceId: s.traceId,
    SpanId: s.spanId,
    ParentSpanId: s.parentSpanId,
    SpanName: s.name,
    SpanKind: s.kind,
    ServiceName: s.serviceName,
    ScopeName: s.scopeName,
    ResourceAttributes: s.resourceAttributes,
    SpanAttributes: s.spanAttributes,
    Duration: duration.toString(),
    StatusCode: s.statusCode,
    StatusMessage: s.statusMessage,
    span_type: s.spanType,
    operation: s.operation,
    provider: s.provider,
    request_model: s.requestModel,
    response_model: s.responseModel,
    model: s.responseModel || s.requestModel,
    session_id: s.sessionId,
    developer: s.developer,
    team: s.team,
    repo: s.repo,
    branch: s.branch,
    commit: s.commit,
    pr: s.pr,
    intent: s.intent,
    source: s.source,
    key_id: s.keyId ?? '',
    input_tokens: s.inputTokens,
    output_tokens: s.outputTokens,
    cache_read_tokens: s.cacheReadTokens,
    cache_write_tokens: s.cacheWriteTokens,
    cache_write_5m_tokens: s.cacheWrite5mTokens,
    cache_write_1h_tokens: s.cacheWrite1hTokens,
    reasoning_tokens: s.reasoningTokens,
    reported_cost_nanos: big(s.reportedCostNanos),
    usage_check: s.usageCheck ?? '',
    price_id: s.priceId,
    cost_nanos: big(s.costNanos),
    input_cost_nanos: big(s.inputCostNanos),
    output_cost_nanos: big(s.outputCostNanos),
    cache_read_cost_nanos: big(s.cacheReadCostNanos),
    cache_write_cost_nanos: big(s.cacheWriteCostNanos),
    unpriced: s.unpriced ? 1 : 0,
    tool_name: s.toolName,
    tool_call_id: s.toolCallId,
    tool_class: s.toolClass,
    args_hash: s.argsHash,
    target_hash: s.targetHash,
    result_bytes: s.resultBytes,
    result_tokens: s.resultTokens,
    is_error: s.isError ? 1 : 0,
  };
}
