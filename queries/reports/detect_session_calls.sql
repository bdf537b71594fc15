-- detect: the calls of one session, with what the redundancy rules need (hashes, sizes, tokens).
SELECT
    SpanId AS span_id,
    TraceId AS trace_id,
    toString(toUnixTimestamp64Nano(Timestamp)) AS at,
    toString(toUnixTimestamp64Nano(EndTimestamp)) AS end_at,
    toString(Timestamp) AS ts,
    span_type,
    tool_name,
    tool_class,
    args_hash,
    target_hash,
    result_tokens,
    is_error,
    output_tokens,
    cache_read_tokens,
    provider,
    model,
    repo,
    pr,
    developer,
    team,
    SpanAttributes['harness_meter.tool.range.start'] AS range_start,
    SpanAttributes['harness_meter.tool.range.end'] AS range_end,
    SpanAttributes['harness_meter.tool.result_hash'] AS result_hash,
    SpanAttributes['harness_meter.context.compaction'] AS compaction,
    SpanAttributes['harness_meter.tool.edit.before_hash'] AS before_hash,
    SpanAttributes['harness_meter.tool.edit.after_hash'] AS after_hash,
    toString(ingested_at) AS ingested_at
FROM {db:Identifier}.spans FINAL
WHERE session_id = {session:String}
ORDER BY Timestamp, SpanId
