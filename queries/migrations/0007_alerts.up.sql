-- Alerts (issue 8). One row per state transition of an alert: warn, firing, resolved. An alert is
-- (rule_id, entity, window_start); its current state is the latest row (argMax by at, recorded_at).
-- The evaluator reads these rows before it notifies, so a restarted evaluator never sends twice.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alerts
(
    notice_id String COMMENT 'alert_id, state and at: one notice, delivered at most once per channel',
    alert_id String COMMENT 'sha256 of rule_id, entity, window_start (hex, 24 chars)',
    rule_id LowCardinality(String),
    rule_type LowCardinality(String),
    entity_kind LowCardinality(String) COMMENT 'developer, team, repo, session, model',
    entity String,
    window_start DateTime('UTC') COMMENT 'start of the window the alert first fired in',
    state LowCardinality(String) COMMENT 'warn, firing, resolved',
    at DateTime64(3, 'UTC') COMMENT 'evaluation time (the `now` of the evaluator)',
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3),
    unit LowCardinality(String) COMMENT 'nano_usd, tokens_per_minute, nano_usd_per_minute, occurrences, calls, share_bp',
    figure Int64,
    threshold Int64,
    baseline Nullable(Int64),
    message String,
    payload String COMMENT 'the notice as sent (JSON)'
)
ENGINE = MergeTree
ORDER BY (rule_id, entity, window_start, at);

-- Every delivery attempt of a notice to a channel, with its outcome.
CREATE TABLE IF NOT EXISTS {db:Identifier}.alert_deliveries
(
    notice_id String,
    alert_id String,
    state LowCardinality(String),
    channel LowCardinality(String) COMMENT 'webhook',
    attempt UInt32,
    status LowCardinality(String) COMMENT 'delivered, retrying, failed',
    http_status UInt16,
    error String,
    at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (notice_id, at);
