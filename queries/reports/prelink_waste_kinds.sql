-- prelink: the findings of each session's latest scan, summed per hour and kind (waste_kind_hour,
-- migration 0023), for the sessions being re-linked ({all} = 1: every session, into an empty table),
-- beside the sessions' current sums negated (replacing them without a DELETE; readers sum).
INSERT INTO {db:Identifier}.waste_kind_hour
SELECT hour, kind, session_id, repo, team, developer,
       -sum(occurrences), -sum(wasted_tokens), -sum(direct_cost_nanos), -sum(carried_cost_nanos)
FROM {db:Identifier}.waste_kind_hour
WHERE {all:UInt8} = 0 AND session_id IN {sessions:Array(String)}
GROUP BY hour, kind, session_id, repo, team, developer
HAVING sum(occurrences) != 0 OR sum(wasted_tokens) != 0 OR sum(direct_cost_nanos) != 0 OR sum(carried_cost_nanos) != 0
UNION ALL
SELECT
    toStartOfHour(f.Timestamp) AS hour, f.kind, f.session_id, f.repo, f.team, f.developer,
    toInt64(count()), toInt64(sum(f.wasted_tokens)), sum(f.direct_cost_nanos), sum(f.carried_cost_nanos)
FROM {db:Identifier}.waste_findings AS f FINAL
WHERE ({all:UInt8} = 1 OR f.session_id IN {sessions:Array(String)})
  AND (f.session_id, f.scan_id) IN
      (SELECT session_id, max(scan_id) FROM {db:Identifier}.session_scans
       WHERE {all:UInt8} = 1 OR session_id IN {sessions:Array(String)} GROUP BY session_id)
GROUP BY hour, f.kind, f.session_id, f.repo, f.team, f.developer
