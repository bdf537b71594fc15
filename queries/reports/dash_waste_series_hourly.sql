-- report: dashboard waste-series, read from waste_kind_hour (migration 0023; buckets of whole hours)
-- The rows of dash_waste_series.sql: the whole hours [hour_from, hour_to) of the window from the
-- hourly table, and the findings of the partial hours at its ends (each session's latest scan, as
-- there), looked up by the sessions the hourly table holds in those hours (the findings' key; a session
-- whose rows were replaced and sum to zero is only looked up for nothing).
WITH edge_sessions AS
(
    SELECT DISTINCT session_id FROM {db:Identifier}.waste_kind_hour
    WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')}) AND hour < {until:DateTime64(3, 'UTC')}
      AND NOT (hour >= {hour_from:DateTime('UTC')} AND hour < {hour_to:DateTime('UTC')})
)
SELECT bucket, key, sum(n) AS occurrences, sum(tokens) AS wasted_tokens,
       toString(sum(direct)) AS direct_cost_nanos, toString(sum(carried)) AS carried_cost_nanos
FROM
(
    SELECT toStartOfInterval(hour, toIntervalSecond({step:UInt32})) AS b, kind AS key,
           sum(occurrences) AS n, sum(wasted_tokens) AS tokens,
           sum(direct_cost_nanos) AS direct, sum(carried_cost_nanos) AS carried
    FROM {db:Identifier}.waste_kind_hour
    WHERE hour >= {hour_from:DateTime('UTC')} AND hour < {hour_to:DateTime('UTC')}
      AND ({repo:String} = '' OR repo = {repo:String})
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
    GROUP BY b, key
    UNION ALL
    SELECT toStartOfInterval(toDateTime(f.Timestamp, 'UTC'), toIntervalSecond({step:UInt32})) AS b, f.kind AS key,
           toInt64(count()) AS n, toInt64(sum(f.wasted_tokens)) AS tokens,
           sum(f.direct_cost_nanos) AS direct, sum(f.carried_cost_nanos) AS carried
    FROM {db:Identifier}.waste_findings AS f FINAL
    WHERE f.session_id IN (SELECT session_id FROM edge_sessions)
      AND (f.session_id, f.scan_id) IN
          (SELECT session_id, max(scan_id) FROM {db:Identifier}.session_scans
           WHERE session_id IN (SELECT session_id FROM edge_sessions) GROUP BY session_id)
      AND f.Timestamp >= {since:DateTime64(3, 'UTC')}
      AND f.Timestamp < {until:DateTime64(3, 'UTC')}
      AND NOT (f.Timestamp >= {hour_from:DateTime('UTC')} AND f.Timestamp < {hour_to:DateTime('UTC')})
      AND ({repo:String} = '' OR f.repo = {repo:String})
      AND ({team:String} = '' OR f.team = {team:String})
      AND ({developer:String} = '' OR f.developer = {developer:String})
    GROUP BY b, key
)
GROUP BY toString(b) AS bucket, key
-- A session's replaced rows sum to zero until merged (prelink_waste_kinds.sql): not a group.
HAVING occurrences != 0
ORDER BY bucket, key
