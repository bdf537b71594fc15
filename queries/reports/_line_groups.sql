-- fragment: line groups (git_line_fates) of PRs merged in [since, until), each with the agent
-- session it is attributed to ('' = human) and the cuts. A group is agent-touched when its origin
-- commit names a session (Agent-Session trailer, read by import git or known from another source
-- of pr_commits), or, for a PR none of whose commits names one (a squash merge, say), when the
-- PR's linkage gives it agent spend (the session with most spend linked to it).
-- Developer: the session's developer for agent lines, the origin commit's author otherwise.
SELECT
    x.repo AS repo,
    x.pr AS pr,
    x.merge_sha AS merge_sha,
    x.merged_at AS merged_at,
    x.observed_at AS observed_at,
    x.lines_added AS lines_added,
    x.rewritten_14d AS rewritten_14d,
    x.removed_14d AS removed_14d,
    x.rewritten_30d AS rewritten_30d,
    x.removed_30d AS removed_30d,
    x.session_id AS session_id,
    x.agent_by AS agent_by,
    if(x.session_id != '', a.developer, x.origin_author) AS developer,
    if(x.session_id != '', a.team, '') AS team,
    if(x.session_id != '', m.model, '') AS model,
    if(x.session_id != '', a.intent, '') AS intent
FROM
(
    SELECT
        y.*,
        multiIf(y.commit_session != '', y.commit_session,
                NOT y.pr_has_commit_sessions AND l.session != '', l.session, '') AS session_id,
        multiIf(y.origin_session != '', 'trailer', y.commit_session != '', 'commit',
                session_id != '', 'linkage', '') AS agent_by
    FROM
    (
        SELECT
            g.*,
            if(g.origin_session != '', g.origin_session, c.session) AS commit_session,
            max(commit_session != '') OVER (PARTITION BY g.repo, g.pr) AS pr_has_commit_sessions
        FROM
        (
            SELECT repo, pr, merge_sha, merged_at, observed_at, origin_sha, origin_session,
                   toString(origin_author) AS origin_author,
                   lines_added, rewritten_14d, removed_14d, rewritten_30d, removed_30d
            FROM {db:Identifier}.git_line_fates FINAL
            WHERE pr != 0
              AND merged_at >= {since:DateTime64(3, 'UTC')} AND merged_at < {until:DateTime64(3, 'UTC')}
              AND ({repo_key:String} = '' OR repo = {repo_key:String})
        ) AS g
        LEFT JOIN
        (
            SELECT repo, sha, any(session_id) AS session FROM {db:Identifier}.pr_commits
            WHERE session_id != '' GROUP BY repo, sha
        ) AS c ON g.repo = c.repo AND g.origin_sha = c.sha
    ) AS y
    LEFT JOIN
    (
        SELECT repo_key AS repo, link_pr AS pr, argMax(session_id, cost) AS session
        FROM
        (
            SELECT repo_key, link_pr, session_id, sum(cost_nanos) + sum(llm_calls) AS cost
            FROM (/*include:_linked_usage.sql*/)
            WHERE link_pr != 0 AND session_id != ''
            GROUP BY repo_key, link_pr, session_id
        )
        GROUP BY repo, pr
    ) AS l ON y.repo = l.repo AND y.pr = l.pr
) AS x
LEFT JOIN
(
    SELECT session_id, argMax(developer, c) AS developer, argMax(team, c) AS team, argMax(intent, c) AS intent
    FROM
    (
        SELECT session_id, toString(developer) AS developer, toString(team) AS team, toString(intent) AS intent,
               sum(cost_nanos) + sum(llm_calls) AS c
        FROM {db:Identifier}.usage_by_link_hour
        WHERE session_id != '' AND hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
        GROUP BY session_id, developer, team, intent
    )
    GROUP BY session_id
) AS a ON x.session_id = a.session_id
LEFT JOIN
(
    SELECT session_id, argMax(model, c) AS model
    FROM
    (
        SELECT session_id, toString(model) AS model, sum(cost_nanos) + sum(llm_calls) AS c
        FROM {db:Identifier}.usage_by_minute
        WHERE session_id != '' AND model != '' AND minute >= toStartOfMinute({span_since:DateTime64(3, 'UTC')})
        GROUP BY session_id, model
    )
    GROUP BY session_id
) AS m ON x.session_id = m.session_id
