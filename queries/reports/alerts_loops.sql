-- alerts: loop findings (e.g. retry_loop, re_read) per session and kind in [since, until), from each
-- session's latest scan (as the waste report reads them).
SELECT
    f.session_id AS session_id,
    f.kind AS kind,
    count() AS occurrences,
    max(f.loop_length) AS max_loop_length,
    any(f.developer) AS dev,
    any(f.team) AS team_name,
    any(f.repo) AS repo_name,
    toString(sum(f.direct_cost_nanos) + sum(f.carried_cost_nanos)) AS cost
FROM {db:Identifier}.waste_findings AS f FINAL
INNER JOIN
(
    -- only the sessions with findings in the window: bounded by the window, not by every session stored
    SELECT session_id, max(scan_id) AS scan_id
    FROM {db:Identifier}.session_scans
    WHERE session_id IN (
        SELECT session_id FROM {db:Identifier}.waste_findings
        WHERE Timestamp >= {since:DateTime64(3, 'UTC')}
          AND Timestamp < {until:DateTime64(3, 'UTC')}
          AND has({kinds:Array(String)}, kind)
    )
    GROUP BY session_id
) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
WHERE f.Timestamp >= {since:DateTime64(3, 'UTC')}
  AND f.Timestamp < {until:DateTime64(3, 'UTC')}
  AND has({kinds:Array(String)}, f.kind)
GROUP BY session_id, kind
ORDER BY session_id, kind
