-- Each session's newest span arrival, kept by a view on spans, so the detect stage lists stale sessions
-- from one small row per session (and part) instead of grouping every span (about 1.2 s at 10M spans
-- under load; reports/detect_stale_sessions.sql). Rows older than the listing's 30-day look-back
-- expire.
CREATE TABLE IF NOT EXISTS {db:Identifier}.session_activity
(
    session_id String,
    last SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY session_id
TTL toDateTime(last) + INTERVAL 31 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.session_activity_mv TO {db:Identifier}.session_activity AS
SELECT session_id, max(ingested_at) AS last
FROM {db:Identifier}.spans
WHERE session_id != ''
GROUP BY session_id;

-- What is already stored.
INSERT INTO {db:Identifier}.session_activity
SELECT session_id, max(ingested_at) FROM {db:Identifier}.spans
WHERE session_id != '' AND ingested_at >= now64(3) - toIntervalDay(31)
GROUP BY session_id;
