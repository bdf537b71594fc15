-- fragment: redundancy findings (latest scan of each session) in [since, until) as extra rows of the
-- linked stream (_linked_usage.sql, variant with_waste), each with the branch, commit and explicit PR of
-- its session's costliest rollup row of the same hour, so the same linkage rules charge the waste.
UNION ALL
SELECT
    hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent, llm_calls, tool_calls,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos,
    unpriced_calls, wasted_tokens, wasted_cost_nanos
FROM (/*include:_waste_source.sql*/)
