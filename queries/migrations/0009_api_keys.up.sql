-- API keys (issue 12). A key is `hm_<id>_<secret>`: only the SHA-256 of the secret is stored (the
-- secret is 256 random bits, so a fast hash is enough; nothing here can be used to sign in).
-- One row per change of a key: created, then revoked. The current state of a key is its row with
-- the highest `version` (ReplacingMergeTree; read with FINAL).
CREATE TABLE IF NOT EXISTS {db:Identifier}.api_keys
(
    id String COMMENT '12 hex characters, public (shown by keys list, stored on the spans the key wrote)',
    name String,
    role LowCardinality(String) COMMENT 'ingest, read or admin',
    team String COMMENT 'ingest keys: spans are stored with this team ("" = not bound)',
    developer String COMMENT 'ingest keys: spans are stored with this developer ("" = not bound)',
    secret_sha256 String COMMENT 'hex SHA-256 of the secret part of the key',
    created_at DateTime64(3, 'UTC'),
    revoked_at Nullable(DateTime64(3, 'UTC')),
    version UInt64 COMMENT 'milliseconds of the change; the highest wins'
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Which key wrote each span ('' = written without a key). Never the secret.
ALTER TABLE {db:Identifier}.spans ADD COLUMN IF NOT EXISTS key_id LowCardinality(String) DEFAULT '' AFTER source;
