-- report: dashboard session
-- One session's spans on a time axis (drill-down on the raw table, current version of each span):
-- each call's tokens, cost parts and the price row that produced it, and the redundancy finding of the
-- session's latest scan that flags it (kind, the call it repeats, direct and carried cost).
SELECT
    s.SpanId AS span_id,
    s.ParentSpanId AS parent_span_id,
    s.TraceId AS trace_id,
    s.SpanName AS name,
    s.span_type AS span_type,
    s.tool_name AS tool_name,
    s.tool_class AS tool_class,
    s.model AS model,
    s.provider AS provider,
    toString(s.Timestamp) AS start,
    toUInt64(toUnixTimestamp64Milli(s.Timestamp)) AS start_ms,
    intDiv(s.Duration, 1000000) AS duration_ms,
    s.input_tokens AS input_tokens,
    s.output_tokens AS output_tokens,
    s.cache_read_tokens AS cache_read_tokens,
    s.cache_write_tokens AS cache_write_tokens,
    s.reasoning_tokens AS reasoning_tokens,
    s.result_tokens AS result_tokens,
    if(s.cost_nanos IS NULL, NULL, toString(s.cost_nanos)) AS cost_nanos,
    if(s.input_cost_nanos IS NULL, NULL, toString(s.input_cost_nanos)) AS input_cost_nanos,
    if(s.output_cost_nanos IS NULL, NULL, toString(s.output_cost_nanos)) AS output_cost_nanos,
    if(s.cache_read_cost_nanos IS NULL, NULL, toString(s.cache_read_cost_nanos)) AS cache_read_cost_nanos,
    if(s.cache_write_cost_nanos IS NULL, NULL, toString(s.cache_write_cost_nanos)) AS cache_write_cost_nanos,
    s.price_id AS price_id,
    s.unpriced AS unpriced,
    s.is_error AS is_error,
    s.developer AS developer,
    s.team AS team,
    s.repo AS repo,
    s.branch AS branch,
    s.pr AS pr,
    w.kind AS waste_kind,
    w.repeats_span_id AS repeats_span_id,
    w.wasted_tokens AS wasted_tokens,
    toString(w.direct_cost_nanos) AS waste_direct_nanos,
    toString(w.carried_cost_nanos) AS waste_carried_nanos,
    w.loop_length AS loop_length
FROM
(
    SELECT * FROM {db:Identifier}.spans
    WHERE session_id = {session:String}
    ORDER BY row_version DESC
    LIMIT 1 BY TraceId, SpanId
) AS s
LEFT JOIN
(
    SELECT f.span_id, f.kind, f.repeats_span_id, f.wasted_tokens, f.direct_cost_nanos, f.carried_cost_nanos, f.loop_length
    FROM {db:Identifier}.waste_findings AS f FINAL
    INNER JOIN
    (
        SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans
        WHERE session_id = {session:String} GROUP BY session_id
    ) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
    WHERE f.session_id = {session:String}
) AS w ON s.SpanId = w.span_id
ORDER BY s.Timestamp, s.SpanId
SETTINGS join_use_nulls = 1
