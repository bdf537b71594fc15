-- report: dashboard timeseries
-- Cost and tokens per time bucket ({step} seconds, aligned to the epoch) and key (model, team,
-- developer or repo) in [since, until), from the per-minute rollup, with the dashboard's filters.
SELECT
    toString(toStartOfInterval(minute, toIntervalSecond({step:UInt32}))) AS bucket,
    multiIf(
        {by:String} = 'model', model,
        {by:String} = 'team', team,
        {by:String} = 'developer', developer,
        {by:String} = 'repo', repo,
        ''
    ) AS key,
    sum(llm_calls) AS llm_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    toString(sum(u.cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls
FROM {db:Identifier}.usage_by_minute AS u
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
  AND ({repo:String} = '' OR repo = {repo:String})
  AND ({team:String} = '' OR team = {team:String})
  AND ({developer:String} = '' OR developer = {developer:String})
  AND ({model:String} = '' OR model = {model:String})
GROUP BY bucket, key
ORDER BY bucket, key
