-- report: dashboard filters
-- The values each filter (repo, team, developer, model) takes in [since, until), most spend first, for
-- the dashboard's filter lists. Hour granularity: read from the hourly rollup only.
SELECT
    dv.1 AS dimension,
    dv.2 AS value,
    sum(cost_nanos) AS cost
FROM {db:Identifier}.usage_by_hour
ARRAY JOIN [('repo', toString(repo)), ('team', toString(team)), ('developer', toString(developer)), ('model', toString(model))] AS dv
WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
  AND hour < {until:DateTime64(3, 'UTC')}
  AND dv.2 != ''
GROUP BY dimension, value
ORDER BY dimension, cost DESC, value
