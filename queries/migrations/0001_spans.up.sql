-- One row per OTLP span, normalized and priced. The first columns keep the shape of the
-- OpenTelemetry Collector's ClickHouse exporter (otel_traces), so trace views can read this table;
-- the snake_case columns are harness-meter's derived fields.
-- Deduplication: the sink never inserts a (TraceId, SpanId) that is already stored, and
-- ReplacingMergeTree on the same key collapses any duplicate that slips through (reports on this
-- table use FINAL).
CREATE TABLE IF NOT EXISTS {db:Identifier}.spans
(
    Timestamp DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    EndTimestamp DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode UInt8,
    StatusMessage String CODEC(ZSTD(1)),

    span_type LowCardinality(String),
    operation LowCardinality(String),
    provider LowCardinality(String),
    request_model LowCardinality(String),
    response_model LowCardinality(String),
    model LowCardinality(String) COMMENT 'response model, else request model',
    session_id String CODEC(ZSTD(1)),
    developer LowCardinality(String),
    team LowCardinality(String),
    repo LowCardinality(String),
    branch LowCardinality(String),
    commit String CODEC(ZSTD(1)),
    pr UInt32 COMMENT '0 = no PR known',
    intent LowCardinality(String),
    source LowCardinality(String),

    input_tokens UInt64 COMMENT 'includes cache reads and writes (GenAI semconv)',
    output_tokens UInt64 COMMENT 'includes reasoning tokens',
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    cache_write_5m_tokens UInt64,
    cache_write_1h_tokens UInt64,
    reasoning_tokens UInt64,
    reported_cost_nanos Nullable(Int64) COMMENT 'cost the producer reported, nano-USD',

    price_id LowCardinality(String) COMMENT 'price row that produced the cost',
    cost_nanos Nullable(Int64) COMMENT 'nano-USD; NULL = unpriced or not an LLM call',
    input_cost_nanos Nullable(Int64),
    output_cost_nanos Nullable(Int64),
    cache_read_cost_nanos Nullable(Int64),
    cache_write_cost_nanos Nullable(Int64),
    unpriced UInt8,

    tool_name LowCardinality(String),
    tool_call_id String CODEC(ZSTD(1)),
    tool_class LowCardinality(String),
    args_hash String CODEC(ZSTD(1)),
    target_hash String CODEC(ZSTD(1)),
    result_bytes UInt64,
    result_tokens UInt64,
    is_error UInt8,

    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (TraceId, SpanId)
SETTINGS index_granularity = 8192;

ALTER TABLE {db:Identifier}.spans ADD INDEX IF NOT EXISTS idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 1;
