DROP VIEW IF EXISTS {db:Identifier}.usage_by_minute_reprice_mv;
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
    countIf(unpriced = 1) AS unpriced_calls,
    countIf(is_error = 1) AS error_calls
FROM {db:Identifier}.spans
WHERE span_type IN ('llm', 'tool')
GROUP BY minute, repo, pr, session_id, developer, team, provider, model, source;
-- Re-priced versions stay in spans (the ReplacingMergeTree keeps the last one); only the columns go.
ALTER TABLE {db:Identifier}.usage_by_minute MODIFY COLUMN unpriced_calls UInt64;
ALTER TABLE {db:Identifier}.spans DROP COLUMN IF EXISTS prev_unpriced;
ALTER TABLE {db:Identifier}.spans DROP COLUMN IF EXISTS prev_cost_nanos;
ALTER TABLE {db:Identifier}.spans DROP COLUMN IF EXISTS row_version;
