-- report: dashboard summary
-- Totals in [since, until) from the per-minute rollup (the same rows and bounds as `cost --by`), with the
-- dashboard's filters (empty = all): tokens by kind, calls, unpriced calls and cost.
SELECT
    uniqExactIf(session_id, session_id != '') AS sessions,
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    toString(sum(u.cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls
FROM {db:Identifier}.usage_by_minute AS u
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
  AND ({repo:String} = '' OR repo = {repo:String})
  AND ({team:String} = '' OR team = {team:String})
  AND ({developer:String} = '' OR developer = {developer:String})
  AND ({model:String} = '' OR model = {model:String})
