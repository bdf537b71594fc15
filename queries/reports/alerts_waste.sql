-- alerts: wasted dollars (direct + carried) per repo or team in [since, until), from each session's
-- latest scan (as the waste report counts them), reading only the sessions with findings in the
-- window: bounded by the window, not by every session ever scanned.
SELECT
    multiIf({scope:String} = 'team', f.team, f.repo) AS key,
    toString(sum(f.direct_cost_nanos) + sum(f.carried_cost_nanos)) AS cost
FROM {db:Identifier}.waste_findings AS f FINAL
INNER JOIN
(
    SELECT session_id, max(scan_id) AS scan_id
    FROM {db:Identifier}.session_scans
    WHERE session_id IN (
        SELECT session_id FROM {db:Identifier}.waste_findings
        WHERE Timestamp >= {since:DateTime64(3, 'UTC')}
          AND Timestamp < {until:DateTime64(3, 'UTC')}
    )
    GROUP BY session_id
) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
WHERE f.Timestamp >= {since:DateTime64(3, 'UTC')}
  AND f.Timestamp < {until:DateTime64(3, 'UTC')}
GROUP BY key
HAVING key != ''
ORDER BY key
