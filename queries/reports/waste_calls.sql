-- report: waste --by call
-- Each redundant call found in [since, until) (latest scan of each session), with the span it repeats,
-- so a finding can be checked against the session. Newest first; bounded by {limit}.
SELECT
    toString(f.Timestamp) AS at,
    f.session_id AS session_id,
    f.span_id AS span_id,
    f.repeats_span_id AS repeats_span_id,
    f.kind AS kind,
    f.tool_name AS tool_name,
    f.mcp_server AS mcp_server,
    f.loop_length AS loop_length,
    f.result_tokens AS result_tokens,
    f.wasted_tokens AS wasted_tokens,
    f.carried_tokens AS carried_tokens,
    toString(f.direct_cost_nanos) AS direct_cost_nanos,
    toString(f.carried_cost_nanos) AS carried_cost_nanos,
    f.fully_priced AS fully_priced
FROM {db:Identifier}.waste_findings AS f FINAL
INNER JOIN
(
    SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id
) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
WHERE f.Timestamp >= {since:DateTime64(3, 'UTC')}
  AND f.Timestamp < {until:DateTime64(3, 'UTC')}
ORDER BY f.Timestamp DESC, f.session_id, f.span_id
LIMIT {limit:UInt32}
