-- report: first-pass
-- Implementation sessions (intent implement, implementation or feature) with spend in
-- [since, until), each with its PR: the one most of its linked spend went to. A session passes
-- first time when that PR is merged (as of until) with no changes_requested review and no failing
-- check (failure, timed_out, startup_failure) before the merge. Sessions without a PR, and PRs
-- still open, are counted apart, never as a pass or a fail.
SELECT
    s.repo_key AS repo,
    count() AS sessions,
    countIf(s.pr = 0) AS unlinked_sessions,
    countIf(s.pr != 0 AND f.state NOT IN ('merged', 'closed')) AS pending_sessions,
    countIf(s.pr != 0 AND f.state IN ('merged', 'closed')) AS resolved_sessions,
    countIf(s.pr != 0 AND f.state = 'merged' AND NOT f.changes_requested_before_merge AND NOT f.failing_check_before_merge) AS first_pass_sessions,
    countIf(s.pr != 0 AND f.state = 'merged' AND f.changes_requested_before_merge) AS changes_requested_sessions,
    countIf(s.pr != 0 AND f.state = 'merged' AND f.failing_check_before_merge) AS failing_check_sessions,
    countIf(s.pr != 0 AND f.state = 'closed') AS closed_unmerged_sessions
FROM
(
    SELECT repo_key, session_id, argMaxIf(link_pr, (cost, calls), link_pr != 0) AS pr
    FROM
    (
        SELECT repo_key, session_id, link_pr, sum(cost_nanos) AS cost, sum(llm_calls + tool_calls) AS calls,
               countIf(intent IN ('implement', 'implementation', 'feature')) AS impl
        FROM (/*include:_linked_usage.sql*/)
        WHERE session_id != ''
        GROUP BY repo_key, session_id, link_pr
    )
    GROUP BY repo_key, session_id
    HAVING sum(impl) > 0
) AS s
LEFT JOIN (/*include:_pr_facts.sql*/) AS f ON s.repo_key = f.repo AND s.pr = f.pr
GROUP BY s.repo_key
ORDER BY repo
