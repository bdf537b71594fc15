-- Hourly rollup without sessions, for the dashboard's totals, time series and filter lists: the
-- per-minute rollup keeps the session, so with many sessions it is nearly as large as the spans
-- (a session of 200 spans over 50 minutes is about 100 minute rows), and month-long windows read it
-- slowly. Fed like usage_by_minute: first versions in full, re-priced versions as deltas. Readers take
-- whole hours from here and the partial hours at the window's edges from usage_by_minute, so the
-- bounds stay at minute granularity and the totals equal `report cost`'s.
CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_by_hour
(
    hour DateTime('UTC'),
    repo LowCardinality(String),
    pr UInt32,
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
    unpriced_calls Int64,
    error_calls UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, repo, team, developer, model, provider, source, pr);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_hour_mv TO {db:Identifier}.usage_by_hour AS
SELECT
    toStartOfHour(Timestamp) AS hour,
    repo,
    pr,
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
GROUP BY hour, repo, pr, developer, team, provider, model, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_hour_reprice_mv TO {db:Identifier}.usage_by_hour AS
SELECT
    toStartOfHour(Timestamp) AS hour,
    repo,
    pr,
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
GROUP BY hour, repo, pr, developer, team, provider, model, source;

-- Existing data, from the per-minute rollup (migrations run before any writer starts; the rollup
-- repair at start rebuilds any hour that still differs from the spans).
INSERT INTO {db:Identifier}.usage_by_hour
SELECT
    toStartOfHour(minute) AS hour,
    repo,
    pr,
    developer,
    team,
    provider,
    model,
    source,
    sum(llm_calls),
    sum(tool_calls),
    sum(input_tokens),
    sum(output_tokens),
    sum(cache_read_tokens),
    sum(cache_write_tokens),
    sum(reasoning_tokens),
    sum(tool_result_tokens),
    sum(cost_nanos),
    sum(unpriced_calls),
    sum(error_calls)
FROM {db:Identifier}.usage_by_minute
GROUP BY hour, repo, pr, developer, team, provider, model, source;
