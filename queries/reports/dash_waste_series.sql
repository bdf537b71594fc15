-- report: dashboard waste-series
-- Redundant calls (each session's latest scan) per time bucket and kind in [since, until), with the
-- repo / team / developer filters (findings carry no model), direct and carried dollars apart.
SELECT
    toString(toStartOfInterval(f.Timestamp, toIntervalSecond({step:UInt32}))) AS bucket,
    f.kind AS key,
    count() AS occurrences,
    sum(f.wasted_tokens) AS wasted_tokens,
    toString(sum(f.direct_cost_nanos)) AS direct_cost_nanos,
    toString(sum(f.carried_cost_nanos)) AS carried_cost_nanos
FROM {db:Identifier}.waste_findings AS f FINAL
-- Each session's latest scan as a set lookup, not a join: the same rows (one latest scan per session),
-- about half the wall time at 2.85M findings (bench/reports.js).
WHERE (f.session_id, f.scan_id) IN
      (SELECT session_id, max(scan_id) FROM {db:Identifier}.session_scans GROUP BY session_id)
  AND f.Timestamp >= {since:DateTime64(3, 'UTC')}
  AND f.Timestamp < {until:DateTime64(3, 'UTC')}
  AND ({repo:String} = '' OR f.repo = {repo:String})
  AND ({team:String} = '' OR f.team = {team:String})
  AND ({developer:String} = '' OR f.developer = {developer:String})
GROUP BY bucket, key
ORDER BY bucket, key
