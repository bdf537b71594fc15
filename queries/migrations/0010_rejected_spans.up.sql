-- Spans the store refused after decode had accepted them (defence in depth): the sink splits the
-- batch, stores the good rows and sets each refused one aside here, with the reason and a bounded
-- sample of the row (its JSON, first 4 KiB, already redacted at decode). Kept 30 days.
CREATE TABLE IF NOT EXISTS {db:Identifier}.rejected_spans
(
    rejected_at DateTime64(3, 'UTC') DEFAULT now64(3),
    stage LowCardinality(String) COMMENT 'where it was refused: sink',
    reason String CODEC(ZSTD(1)),
    trace_id String,
    span_id String,
    sample String COMMENT 'row JSON, cut to 4096 characters' CODEC(ZSTD(1)),
    sample_chars UInt32 COMMENT 'length of the whole row JSON'
)
ENGINE = MergeTree
ORDER BY rejected_at
TTL toDateTime(rejected_at) + INTERVAL 30 DAY;
