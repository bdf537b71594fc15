-- fragment: usage rows in [since, until) at minute granularity, with the dashboard's filters, read
-- cheaply: whole hours from usage_by_hour (no sessions: small), the partial hours at the edges from
-- usage_by_minute. {hourly:UInt8} = 0 reads minutes only (for buckets under an hour).
-- `t` is the row's hour or minute. Rows are rollup rows, not yet summed: readers aggregate.
SELECT t, repo, team, developer, model, llm_calls, tool_calls, input_tokens, output_tokens,
       cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, unpriced_calls
FROM
(
    WITH
        toDateTime(toStartOfMinute({since:DateTime64(3, 'UTC')}), 'UTC') AS s,
        toDateTime(toStartOfHour(s), 'UTC') + toIntervalHour(toStartOfHour(s) != s) AS hs,
        toDateTime(toStartOfHour({until:DateTime64(3, 'UTC')}), 'UTC') AS he
    SELECT hour AS t, repo, team, developer, model, llm_calls, tool_calls, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, unpriced_calls
    FROM {db:Identifier}.usage_by_hour
    WHERE {hourly:UInt8} = 1 AND hour >= hs AND hour < he
      AND ({repo:String} = '' OR repo = {repo:String})
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
      AND ({model:String} = '' OR model = {model:String})
    UNION ALL
    WITH
        toDateTime(toStartOfMinute({since:DateTime64(3, 'UTC')}), 'UTC') AS s,
        toDateTime(toStartOfHour(s), 'UTC') + toIntervalHour(toStartOfHour(s) != s) AS hs,
        toDateTime(toStartOfHour({until:DateTime64(3, 'UTC')}), 'UTC') AS he
    SELECT minute AS t, repo, team, developer, model, llm_calls, tool_calls, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, toInt64(unpriced_calls)
    FROM {db:Identifier}.usage_by_minute
    WHERE ((minute >= s AND minute < if({hourly:UInt8} = 1, least(hs, {until:DateTime64(3, 'UTC')}), {until:DateTime64(3, 'UTC')}))
           OR ({hourly:UInt8} = 1 AND minute >= greatest(he, hs) AND minute < {until:DateTime64(3, 'UTC')}))
      AND ({repo:String} = '' OR repo = {repo:String})
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
      AND ({model:String} = '' OR model = {model:String})
)
