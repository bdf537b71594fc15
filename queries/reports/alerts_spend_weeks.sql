-- alerts: spend per entity and team in the same window of one past week (the spike baseline).
-- The current window is (now - window, now]; week k is the same window k × 7 days back:
-- minute in [now - k × 7d - window, now - k × 7d). One query per week, each a primary-key range of
-- the rollup (minute leads its key): the cost follows the window, not the weeks of history in between.
SELECT
    multiIf(
        {scope:String} = 'developer', developer,
        {scope:String} = 'team', team,
        {scope:String} = 'repo', repo,
        ''
    ) AS key,
    team,
    {k:UInt32} AS k,
    toString(sum(cost_nanos)) AS cost
FROM {db:Identifier}.usage_by_minute
WHERE minute >= {now:DateTime64(3, 'UTC')} - toIntervalMinute({k:UInt32} * 10080 + {window_minutes:UInt32})
  AND minute < {now:DateTime64(3, 'UTC')} - toIntervalMinute({k:UInt32} * 10080)
GROUP BY key, team
HAVING key != ''
ORDER BY key, team
