-- Re-pricing (harness-meter reprice). A re-priced span is inserted again as a new version of the
-- same (TraceId, SpanId): row_version + 1, with the cost it replaces in prev_cost_nanos /
-- prev_unpriced. Raw usage is never modified. Readers of spans take the highest row_version per
-- key (the ReplacingMergeTree also keeps the last inserted version when it merges).
-- The rollup stays exact without re-reading anything: the first version (row_version = 0) feeds
-- it as before, and every later version adds only its delta (new cost - previous cost, and the
-- change in unpriced calls), which the SummingMergeTree sums. The delta is computed inside the
-- same insert, so a span's new version and its rollup correction are never written apart.
ALTER TABLE {db:Identifier}.spans ADD COLUMN IF NOT EXISTS row_version UInt32 DEFAULT 0 COMMENT '0 at ingest; +1 per re-pricing';
ALTER TABLE {db:Identifier}.spans ADD COLUMN IF NOT EXISTS prev_cost_nanos Nullable(Int64) COMMENT 'cost_nanos of the version this one replaces';
ALTER TABLE {db:Identifier}.spans ADD COLUMN IF NOT EXISTS prev_unpriced UInt8 DEFAULT 0 COMMENT 'unpriced of the version this one replaces';
-- Deltas can be negative (an unpriced call that gets a price: -1).
ALTER TABLE {db:Identifier}.usage_by_minute MODIFY COLUMN unpriced_calls Int64;

DROP VIEW IF EXISTS {db:Identifier}.usage_by_minute_mv;
CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_minute_mv TO {db:Identifier}.usage_by_minute AS
SELECT
    toStartOfMinute(Timestamp) AS minute,
    repo,
    pr,
    session_id,
    developer,
    team,
    provider,
    model,
    source,
    countIf(span_type = 'llm') AS llm_calls,
    countIf(span_type = 'tool') AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(result_tokens) AS tool_result_tokens,
    sum(ifNull(cost_nanos, 0)) AS cost_nanos,
    toInt64(countIf(unpriced = 1)) AS unpriced_calls,
    countIf(is_error = 1) AS error_calls
FROM {db:Identifier}.spans
WHERE span_type IN ('llm', 'tool') AND row_version = 0
GROUP BY minute, repo, pr, session_id, developer, team, provider, model, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_minute_reprice_mv TO {db:Identifier}.usage_by_minute AS
SELECT
    toStartOfMinute(Timestamp) AS minute,
    repo,
    pr,
    session_id,
    developer,
    team,
    provider,
    model,
    source,
    toUInt64(0) AS llm_calls,
    toUInt64(0) AS tool_calls,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS cache_read_tokens,
    toUInt64(0) AS cache_write_tokens,
    toUInt64(0) AS reasoning_tokens,
    toUInt64(0) AS tool_result_tokens,
    sum(ifNull(cost_nanos, 0) - ifNull(prev_cost_nanos, 0)) AS cost_nanos,
    sum(toInt64(unpriced) - toInt64(prev_unpriced)) AS unpriced_calls,
    toUInt64(0) AS error_calls
FROM {db:Identifier}.spans
WHERE span_type = 'llm' AND row_version > 0
GROUP BY minute, repo, pr, session_id, developer, team, provider, model, source;
