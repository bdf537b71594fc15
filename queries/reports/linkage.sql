-- report: linkage
-- How much spend in [since, until) is attributed to a PR, and by which rule (see _linked_usage.sql).
SELECT
    link_rule AS rule,
    uniqExactIf(session_id, session_id != '') AS sessions,
    uniqExactIf((repo_key, link_pr), link_pr != 0) AS prs,
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    toString(sum(cost_nanos)) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls
FROM (/*include:_linked_usage.sql*/)
GROUP BY rule
