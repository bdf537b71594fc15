-- report: dashboard pr-sessions
-- The sessions whose spend the linkage rules charge to one PR (repo URL or owner/name, pr; pr 0 = the
-- unattributed bucket), in [since, until): the same linked stream as cost-per-pr, so the sessions add
-- up to the PR's row there.
SELECT
    session_id,
    any(developer) AS developer,
    any(team) AS team,
    any(intent) AS intent,
    any(branch) AS branch,
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    toString(sum(l.cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls,
    toString(min(hour)) AS first_seen,
    toString(max(hour)) AS last_seen,
    arrayStringConcat(arraySort(groupUniqArray(link_rule)), ',') AS rules
FROM (/*include:_linked_usage.sql*/) AS l
WHERE link_pr = {pr:UInt32}
  AND (repo = {pr_repo:String} OR repo_key = lower({pr_repo:String}))
GROUP BY session_id
ORDER BY sum(l.cost_nanos) DESC, session_id
