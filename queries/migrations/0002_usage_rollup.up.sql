-- Per-minute rollup of usage and cost by the dimensions every cost report groups by.
-- Fed by a materialized view on insert into spans. The sink inserts each span once (it filters
-- spans already stored), so sums here count every span once. SummingMergeTree merges lazily:
-- readers must GROUP BY.
CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_by_minute
(
    minute DateTime('UTC'),
    repo LowCardinality(String),
    pr UInt32,
    session_id String,
    developer LowCardinality(String),
    team LowCardinality(String),
    provider LowCardinality(String),
    model LowCardinality(String),
    source LowCardinality(String),
    llm_calls UInt64,
    tool_calls UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    reasoning_tokens UInt64,
    tool_result_tokens UInt64,
    cost_nanos Int64,
    unpriced_calls UInt64,
    error_calls UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, repo, pr, developer, team, session_id, provider, model, source);

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
