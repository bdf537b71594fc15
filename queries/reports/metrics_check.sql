-- report: metrics-check
-- Per agent session in [since, until): the agent's own usage counters (metrics) beside the totals of
-- its events (stored calls). Token types follow the agent's meaning (Claude Code: input excludes cache).
-- Cumulative series count their last value, delta points add up.
SELECT
    m.session_id AS session_id,
    m.source AS source,
    toInt64(m.input) AS metric_input_tokens,
    toInt64(ifNull(e.fresh, 0)) AS event_input_tokens,
    toInt64(m.output) AS metric_output_tokens,
    toInt64(ifNull(e.output, 0)) AS event_output_tokens,
    toInt64(m.cache_read) AS metric_cache_read_tokens,
    toInt64(ifNull(e.cache_read, 0)) AS event_cache_read_tokens,
    toInt64(m.cache_creation) AS metric_cache_creation_tokens,
    toInt64(ifNull(e.cache_write, 0)) AS event_cache_creation_tokens,
    toString(toInt64(m.cost * 1000000000)) AS metric_cost_nanos,
    toString(ifNull(e.reported, 0)) AS event_reported_cost_nanos,
    toString(ifNull(e.computed, 0)) AS event_computed_cost_nanos
FROM
(
    SELECT
        session_id,
        source,
        sumIf(v, metric LIKE '%token.usage' AND token_type = 'input') AS input,
        sumIf(v, metric LIKE '%token.usage' AND token_type = 'output') AS output,
        sumIf(v, metric LIKE '%token.usage' AND token_type IN ('cacheRead', 'cache')) AS cache_read,
        sumIf(v, metric LIKE '%token.usage' AND token_type = 'cacheCreation') AS cache_creation,
        sumIf(v, metric LIKE '%cost.usage') AS cost
    FROM
    (
        SELECT session_id, source, metric, token_type, if(temporality = 2, argMax(value, Timestamp), sum(value)) AS v
        FROM {db:Identifier}.agent_metric_points FINAL
        WHERE Timestamp >= {since:DateTime64(3, 'UTC')} AND Timestamp < {until:DateTime64(3, 'UTC')}
        GROUP BY session_id, source, metric, token_type, series, temporality
    )
    GROUP BY session_id, source
) AS m
LEFT JOIN
(
    SELECT
        session_id,
        sum(input_tokens - cache_read_tokens - cache_write_tokens) AS fresh,
        sum(output_tokens) AS output,
        sum(cache_read_tokens) AS cache_read,
        sum(cache_write_tokens) AS cache_write,
        sum(ifNull(reported_cost_nanos, 0)) AS reported,
        sum(ifNull(cost_nanos, 0)) AS computed
    FROM {db:Identifier}.spans FINAL
    WHERE span_type = 'llm' AND Timestamp >= {since:DateTime64(3, 'UTC')} AND Timestamp < {until:DateTime64(3, 'UTC')}
    GROUP BY session_id
) AS e ON m.session_id = e.session_id
ORDER BY m.session_id
SETTINGS join_use_nulls = 1
