-- report: cost-per-merged-pr
-- Per repository: PRs merged in [since, until) (as of until), the agent spend linked to them over
-- [span_since, until) (their life, bounded), and the spend of the window left unattributed.
SELECT
    if(m.repo != '', m.repo, s.repo) AS repo,
    m.merged_prs AS merged_prs,
    s.agent_merged_prs AS agent_merged_prs,
    s.sessions AS sessions,
    s.llm_calls AS llm_calls,
    toString(s.merged_cost) AS cost_nanos,
    s.unpriced_calls AS unpriced_calls,
    toString(s.unattributed_cost) AS unattributed_cost_nanos
FROM
(
    SELECT repo, count() AS merged_prs
    FROM (/*include:_pr_facts.sql*/)
    WHERE state = 'merged'
      AND merged_at >= {since:DateTime64(3, 'UTC')} AND merged_at < {until:DateTime64(3, 'UTC')}
      AND ({repo_key:String} = '' OR repo = {repo_key:String})
    GROUP BY repo
) AS m
FULL OUTER JOIN
(
    SELECT
        l.repo_key AS repo,
        uniqExactIf(l.link_pr, f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')}) AS agent_merged_prs,
        uniqExactIf(l.session_id, f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')} AND l.session_id != '') AS sessions,
        sumIf(l.llm_calls, f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')}) AS llm_calls,
        sumIf(l.cost_nanos, f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')}) AS merged_cost,
        sumIf(l.unpriced_calls, f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')}) AS unpriced_calls,
        sumIf(l.cost_nanos, l.link_pr = 0 AND l.hour >= toStartOfHour({since:DateTime64(3, 'UTC')})) AS unattributed_cost
    FROM (/*include:_linked_usage.sql*/) AS l
    LEFT JOIN (/*include:_pr_facts.sql*/) AS f ON l.repo_key = f.repo AND l.link_pr = f.pr
    GROUP BY l.repo_key
) AS s ON m.repo = s.repo
ORDER BY repo
