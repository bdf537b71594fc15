-- alerts: spend and tokens per developer, team, repo or session in [since, until), from the rollup
-- (budgets, the current window of spikes, runaway sessions). Entities with no name are skipped.
SELECT
    multiIf(
        {scope:String} = 'developer', developer,
        {scope:String} = 'team', team,
        {scope:String} = 'repo', repo,
        {scope:String} = 'session', session_id,
        ''
    ) AS key,
    argMax(team, minute) AS last_team,
    argMax(developer, minute) AS last_developer,
    argMax(repo, minute) AS last_repo,
    toString(sum(cost_nanos)) AS cost,
    sum(input_tokens + output_tokens) AS tokens,
    sum(llm_calls) AS calls,
    sum(unpriced_calls) AS unpriced
FROM {db:Identifier}.usage_by_minute
WHERE minute >= {since:DateTime64(3, 'UTC')}
  AND minute < {until:DateTime64(3, 'UTC')}
GROUP BY key
HAVING key != ''
ORDER BY key
