-- fragment: the link rollup in [span_since, until) with the PR each row's spend belongs to and the
-- rule that linked it, first that applies: explicit (PR on the span) > commit (the span's commit is
-- a known commit of a PR not yet closed in that hour) > branch (the PR whose head is the span's
-- branch and that was not closed before that hour; the earliest such) > trailer (the session's
-- Agent-Session commits belong to exactly one PR) > unattributed (pr 0).
-- Rows are rollup rows, not yet summed (the SummingMergeTree merges lazily): readers aggregate.
-- The fact tables are read without FINAL: a repeated fact changes none of the aggregates used here.
SELECT
    u.hour AS hour,
    u.repo AS repo,
    u.repo_key AS repo_key,
    u.branch AS branch,
    u.session_id AS session_id,
    u.developer AS developer,
    u.team AS team,
    u.intent AS intent,
    u.llm_calls AS llm_calls,
    u.tool_calls AS tool_calls,
    u.input_tokens AS input_tokens,
    u.output_tokens AS output_tokens,
    u.cache_read_tokens AS cache_read_tokens,
    u.cache_write_tokens AS cache_write_tokens,
    u.reasoning_tokens AS reasoning_tokens,
    u.cost_nanos AS cost_nanos,
    u.unpriced_calls AS unpriced_calls,
    u.wasted_tokens AS wasted_tokens,
    u.wasted_cost_nanos AS wasted_cost_nanos,
    multiIf(u.pr != 0, u.pr, c.pr != 0 AND u.hour <= c.end_at, c.pr, b.pr != 0, b.pr, t.pr != 0, t.pr, toUInt32(0)) AS link_pr,
    multiIf(u.pr != 0, 'explicit', c.pr != 0 AND u.hour <= c.end_at, 'commit', b.pr != 0, 'branch', t.pr != 0, 'trailer', 'unattributed') AS link_rule
FROM
(
    SELECT
        hour, repo, repo_key, toString(branch) AS branch, commit, pr, session_id, developer, team, intent,
        llm_calls, tool_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        reasoning_tokens, cost_nanos, unpriced_calls, toUInt64(0) AS wasted_tokens, toInt64(0) AS wasted_cost_nanos
    FROM {db:Identifier}.usage_by_link_hour
    WHERE hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
      AND hour < {until:DateTime64(3, 'UTC')}
      AND ({repo:String} = '' OR repo = {repo:String} OR repo_key = lower({repo:String}))
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
      AND 1 = 1 /*filter*/
    /*waste_rows*/
) AS u
LEFT JOIN
(
    SELECT k.repo AS repo, k.sha AS sha, min(k.pr) AS pr, max(f.end_at) AS end_at
    FROM
    (
        SELECT repo, sha, pr FROM {db:Identifier}.pr_commits WHERE pr != 0
        UNION ALL
        SELECT repo, head_sha AS sha, pr FROM {db:Identifier}.pr_events
        WHERE pr != 0 AND head_sha != '' AND kind IN ('opened', 'reopened', 'pushed', 'updated')
          AND at < {until:DateTime64(3, 'UTC')}
    ) AS k
    INNER JOIN (/*include:_pr_periods.sql*/) AS f ON k.repo = f.repo AND k.pr = f.pr
    GROUP BY k.repo, k.sha
) AS c ON u.repo_key = c.repo AND u.commit = c.sha
ASOF LEFT JOIN
(
    SELECT repo, head_branch, pr, end_at FROM (/*include:_pr_periods.sql*/) WHERE head_branch != ''
) AS b ON u.repo_key = b.repo AND u.branch = b.head_branch AND u.hour <= b.end_at
LEFT JOIN
(
    -- Sessions named by Agent-Session trailers, with the PRs of their commits: by SHA (a PR's
    -- commits, head SHAs) or by the branch they were pushed to (any PR with that head branch).
    SELECT tc.repo AS repo, tc.session_id AS session_id, any(tc.pr) AS pr
    FROM
    (
        SELECT s.repo AS repo, s.session_id AS session_id, x.pr AS pr
        FROM (SELECT repo, sha, session_id FROM {db:Identifier}.pr_commits WHERE session_id != '') AS s
        INNER JOIN
        (
            SELECT repo, sha, pr FROM {db:Identifier}.pr_commits
            WHERE pr != 0 AND sha IN (SELECT sha FROM {db:Identifier}.pr_commits WHERE session_id != '')
            UNION ALL
            SELECT repo, head_sha AS sha, pr FROM {db:Identifier}.pr_events
            WHERE pr != 0 AND kind IN ('opened', 'reopened', 'pushed', 'updated') AND at < {until:DateTime64(3, 'UTC')}
              AND head_sha IN (SELECT sha FROM {db:Identifier}.pr_commits WHERE session_id != '')
        ) AS x ON s.repo = x.repo AND s.sha = x.sha
        UNION ALL
        SELECT s.repo AS repo, s.session_id AS session_id, e.pr AS pr
        FROM (SELECT repo, branch, session_id FROM {db:Identifier}.pr_commits WHERE session_id != '' AND branch != '') AS s
        INNER JOIN
        (
            SELECT DISTINCT repo, head_branch, pr FROM {db:Identifier}.pr_events
            WHERE pr != 0 AND at < {until:DateTime64(3, 'UTC')}
              AND head_branch IN (SELECT branch FROM {db:Identifier}.pr_commits WHERE session_id != '' AND branch != '')
        ) AS e ON s.repo = e.repo AND s.branch = e.head_branch
    ) AS tc
    GROUP BY tc.repo, tc.session_id
    HAVING uniqExact(tc.pr) = 1
) AS t ON u.repo_key = t.repo AND u.session_id = t.session_id
