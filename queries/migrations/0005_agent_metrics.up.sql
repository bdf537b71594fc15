-- Agents' usage counters (Claude Code claude_code.token.usage / cost.usage, Gemini CLI token.usage),
-- kept to cross-check the totals of their events; never added to them. A redelivered point is the
-- same row (ReplacingMergeTree on series and time).
CREATE TABLE IF NOT EXISTS {db:Identifier}.agent_metric_points
(
    Timestamp DateTime64(9, 'UTC'),
    metric LowCardinality(String),
    source LowCardinality(String),
    session_id String,
    model LowCardinality(String),
    token_type LowCardinality(String),
    value Decimal(38, 9),
    temporality UInt8 COMMENT '1 delta, 2 cumulative',
    series String,
    attributes Map(LowCardinality(String), String),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (metric, series, Timestamp);
