-- alerts: spend and tokens per developer, team, repo or session in [since, until) (budgets, the
-- current window of spikes, runaway sessions). Entities with no name are skipped.
-- Whole hours [h_since, h_until) come from the hourly rollup and the partial hours at the edges from
-- the per-minute one (as the dashboard reads them), so a month's budget reads about 720 hourly rows per
-- entity instead of every session-minute: the cost follows the window, not the sessions stored in it.
-- Sessions are not in the hourly rollup: for scope 'session' the caller sets h_since = h_until.
SELECT
    key,
    argMax(team, t) AS last_team,
    argMax(developer, t) AS last_developer,
    argMax(repo, t) AS last_repo,
    toString(sum(cost_nanos)) AS cost,
    sum(tokens) AS tokens,
    sum(calls) AS calls,
    sum(unpriced) AS unpriced
FROM
(
    SELECT
        multiIf(
            {scope:String} = 'developer', developer,
            {scope:String} = 'team', team,
            {scope:String} = 'repo', repo,
            {scope:String} = 'session', session_id,
            ''
        ) AS key,
        team, developer, repo, minute AS t, cost_nanos,
        input_tokens + output_tokens AS tokens, llm_calls AS calls, toInt64(unpriced_calls) AS unpriced
    FROM {db:Identifier}.usage_by_minute
    WHERE (minute >= {since:DateTime64(3, 'UTC')} AND minute < {h_since:DateTime64(3, 'UTC')})
       OR (minute >= {h_until:DateTime64(3, 'UTC')} AND minute < {until:DateTime64(3, 'UTC')})
    UNION ALL
    SELECT
        multiIf(
            {scope:String} = 'developer', developer,
            {scope:String} = 'team', team,
            {scope:String} = 'repo', repo,
            ''
        ) AS key,
        team, developer, repo, hour AS t, cost_nanos,
        input_tokens + output_tokens AS tokens, llm_calls AS calls, unpriced_calls AS unpriced
    FROM {db:Identifier}.usage_by_hour
    WHERE hour >= {h_since:DateTime64(3, 'UTC')} AND hour < {h_until:DateTime64(3, 'UTC')}
)
GROUP BY key
HAVING key != ''
ORDER BY key
