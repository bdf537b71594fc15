-- report: dashboard summary
-- Totals in [since, until) at minute granularity (the same bounds as `cost --by`), with the dashboard's
-- filters (empty = all): tokens by kind, calls, unpriced calls and cost. Whole hours come from the
-- hourly rollup (see _usage_hourly.sql).
SELECT
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    toString(sum(u.cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls
FROM (/*include:_usage_hourly.sql*/) AS u
