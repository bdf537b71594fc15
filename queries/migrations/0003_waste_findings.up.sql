-- Redundancy findings, recomputed per session by the detect stage. Each scan of a session writes all
-- its findings with the scan's id and records the scan in session_scans; readers keep the findings of
-- each session's latest scan, so a finding that a later scan no longer makes disappears.
CREATE TABLE IF NOT EXISTS {db:Identifier}.waste_findings
(
    session_id String,
    span_id String,
    trace_id String,
    scan_id UInt64 COMMENT 'ms since the epoch of the scan that wrote the row',
    Timestamp DateTime64(9, 'UTC'),
    kind LowCardinality(String),
    repeats_span_id String,
    tool_name LowCardinality(String),
    mcp_server LowCardinality(String),
    repo LowCardinality(String),
    pr UInt32,
    developer LowCardinality(String),
    team LowCardinality(String),
    result_tokens UInt64,
    issue_tokens UInt64,
    wasted_tokens UInt64,
    direct_cost_nanos Int64,
    carried_tokens UInt64,
    carried_cost_nanos Int64,
    loop_length UInt32,
    fully_priced UInt8
)
ENGINE = ReplacingMergeTree(scan_id)
ORDER BY (session_id, span_id);

CREATE TABLE IF NOT EXISTS {db:Identifier}.session_scans
(
    session_id String,
    scan_id UInt64,
    last_ingested_at DateTime64(3, 'UTC') COMMENT 'newest span the scan saw',
    spans UInt64,
    findings UInt64
)
ENGINE = ReplacingMergeTree(scan_id)
ORDER BY session_id;
