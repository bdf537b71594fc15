-- report: dashboard timeseries
-- Cost and tokens per time bucket ({step} seconds, aligned to the epoch) and key (model, team,
-- developer or repo) in [since, until), with the dashboard's filters. Buckets of an hour or more read
-- whole hours from the hourly rollup, shorter ones the per-minute rollup.
SELECT
    toString(toStartOfInterval(t, toIntervalSecond({step:UInt32}))) AS bucket,
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
FROM (/*include:_usage_hourly.sql*/) AS u
GROUP BY bucket, key
ORDER BY bucket, key
