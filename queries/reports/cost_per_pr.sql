-- report: cost-per-pr
-- Tokens and cost per (repository, pull request) in [since, until), read from the per-minute
-- rollup (minute granularity). pr = 0 is the bucket of spans with no PR known.
SELECT
    repo,
    pr,
    uniqExactIf(session_id, session_id != '') AS sessions,
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    toString(sum(u.cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls,
    toString(min(minute)) AS first_seen,
    toString(max(minute)) AS last_seen
FROM {db:Identifier}.usage_by_minute AS u
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
  AND ({repo:String} = '' OR repo = {repo:String})
GROUP BY repo, pr
ORDER BY sum(u.cost_nanos) DESC, repo, pr
