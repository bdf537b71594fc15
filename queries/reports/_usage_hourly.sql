-- fragment: usage rows in [since, until) at minute granularity, with the dashboard's filters, read
-- cheaply: whole hours [hour_from, hour_to) from usage_by_hour (no sessions: small), the rest, the
-- minutes [since, minute_to) and [minute_from, until), from usage_by_minute. The bounds are computed by
-- the caller (dashboard.ts, usageBounds), so both ranges are plain key ranges for the index.
-- `t` is the row's hour or minute. Rows are rollup rows, not yet summed: readers aggregate.
SELECT hour AS t, repo, team, developer, model, llm_calls, tool_calls, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, unpriced_calls
FROM {db:Identifier}.usage_by_hour
WHERE hour >= {hour_from:DateTime('UTC')} AND hour < {hour_to:DateTime('UTC')}
  AND ({repo:String} = '' OR repo = {repo:String})
  AND ({team:String} = '' OR team = {team:String})
  AND ({developer:String} = '' OR developer = {developer:String})
  AND ({model:String} = '' OR model = {model:String})
UNION ALL
SELECT minute AS t, repo, team, developer, model, llm_calls, tool_calls, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, toInt64(unpriced_calls)
FROM {db:Identifier}.usage_by_minute
WHERE ((minute >= toStartOfMinute({since:DateTime64(3, 'UTC')}) AND minute < {minute_to:DateTime64(3, 'UTC')})
       OR (minute >= {minute_from:DateTime64(3, 'UTC')} AND minute < {until:DateTime64(3, 'UTC')}))
  AND ({repo:String} = '' OR repo = {repo:String})
  AND ({team:String} = '' OR team = {team:String})
  AND ({developer:String} = '' OR developer = {developer:String})
  AND ({model:String} = '' OR model = {model:String})
