-- alerts: spend per entity and team in the same window of past weeks (the spike baseline).
-- The current window is (now - window, now]; week k (1..weeks) is the same window k × 7 days back.
-- d = now - minute in ms: a minute is in week k when (d - 1) div 7d = k and (d - 1) mod 7d < window.
SELECT
    key,
    team,
    k,
    toString(sum(cost_nanos)) AS cost
FROM
(
    SELECT
        multiIf(
            {scope:String} = 'developer', developer,
            {scope:String} = 'team', team,
            {scope:String} = 'repo', repo,
            ''
        ) AS key,
        team,
        toUnixTimestamp64Milli({now:DateTime64(3, 'UTC')}) - toInt64(toUnixTimestamp(minute)) * 1000 AS d,
        toUInt32(intDiv(d - 1, 604800000)) AS k,
        cost_nanos
    FROM {db:Identifier}.usage_by_minute
    WHERE minute >= {now:DateTime64(3, 'UTC')} - toIntervalMinute({weeks:UInt32} * 10080 + {window_minutes:UInt32})
      AND minute < {now:DateTime64(3, 'UTC')} - toIntervalDay(6)
)
WHERE key != ''
  AND k BETWEEN 1 AND {weeks:UInt32}
  AND (d - 1) % 604800000 < {window_minutes:UInt32} * 60000
GROUP BY key, team, k
ORDER BY key, team, k
