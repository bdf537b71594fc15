-- report: waste --by <dimension>
-- Redundant calls found in [since, until), from each session's latest scan, grouped by one dimension.
SELECT
    multiIf(
        {by:String} = 'kind', f.kind,
        {by:String} = 'tool', f.tool_name,
        {by:String} = 'mcp_server', f.mcp_server,
        {by:String} = 'session', f.session_id,
        {by:String} = 'developer', f.developer,
        {by:String} = 'team', f.team,
        {by:String} = 'repo', f.repo,
        {by:String} = 'pr', toString(f.pr),
        ''
    ) AS key,
    count() AS occurrences,
    uniqExact(f.session_id) AS sessions,
    sum(f.wasted_tokens) AS wasted_tokens,
    sum(f.carried_tokens) AS carried_tokens,
    toString(sum(f.direct_cost_nanos)) AS direct_cost_nanos,
    toString(sum(f.carried_cost_nanos)) AS carried_cost_nanos,
    max(f.loop_length) AS max_loop_length
FROM {db:Identifier}.waste_findings AS f FINAL
INNER JOIN
(
    SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id
) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
WHERE f.Timestamp >= {since:DateTime64(3, 'UTC')}
  AND f.Timestamp < {until:DateTime64(3, 'UTC')}
GROUP BY key
ORDER BY sum(f.direct_cost_nanos) + sum(f.carried_cost_nanos) DESC, key
