-- Leases (Kafka mode, several enrich processes on one ClickHouse server): the process holding a
-- lease is the only one that runs alert evaluation and the start-up rollup repair. A claim, a
-- renewal or a release is a new row; the highest version per name is the lease (read with FINAL).
CREATE TABLE IF NOT EXISTS {db:Identifier}.leases
(
    name LowCardinality(String),
    holder String,
    expires_at DateTime64(3, 'UTC'),
    version UInt64 COMMENT 'milliseconds since the epoch at the write, strictly increasing per name',
    written_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;
