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
    /*include:_link_pick.sql*/
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
LEFT JOIN (/*include:_link_commits.sql*/) AS c ON u.repo_key = c.repo AND u.commit = c.sha
ASOF LEFT JOIN
(
    SELECT repo, head_branch, pr, end_at FROM (/*include:_pr_periods.sql*/) WHERE head_branch != ''
) AS b ON u.repo_key = b.repo AND u.branch = b.head_branch AND u.hour <= b.end_at
LEFT JOIN (/*include:_link_trailers.sql*/) AS t ON u.repo_key = t.repo AND u.session_id = t.session_id
