-- report: cost --by <dimension>
-- Tokens and cost in [since, until) grouped by one dimension, read from the per-minute rollup.
SELECT
    multiIf(
        {by:String} = 'developer', developer,
        {by:String} = 'team', team,
        {by:String} = 'repo', repo,
        {by:String} = 'model', model,
        {by:String} = 'provider', provider,
        {by:String} = 'source', source,
        {by:String} = 'day', toString(toDate(minute)),
        {by:String} = 'month', formatDateTime(minute, '%Y-%m'),
        {by:String} = 'session', session_id,
        ''
    ) AS key,
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
GROUP BY key
ORDER BY sum(u.cost_nanos) DESC, key
