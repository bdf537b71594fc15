-- The redundancy findings of each session's latest scan summed per hour, kind and session, with the
-- columns the dashboard's filters read (the findings' own repo, team, developer): the waste series
-- reads whole hours here instead of every finding with FINAL (2.85M rows at 10M spans), and only the
-- findings of the window's partial first and last hours (found through this table's session_id).
-- Kept by the re-link (queries/src/prelink.ts) with waste_linked_hour: a recorded scan marks its
-- session (migration 0020), and the session's rows are replaced without a DELETE (a lightweight delete
-- waits for its mutation: about a second per statement at 10M spans under load): its current sums are
-- inserted negated beside the new ones, readers sum, and merges drop the rows that sum to zero.
CREATE TABLE IF NOT EXISTS {db:Identifier}.waste_kind_hour
(
    hour DateTime('UTC'),
    kind LowCardinality(String),
    session_id String,
    repo LowCardinality(String),
    team LowCardinality(String),
    developer LowCardinality(String),
    occurrences Int64,
    wasted_tokens Int64,
    direct_cost_nanos Int64,
    carried_cost_nanos Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, session_id, repo, team, developer);

-- What is already stored: every session's latest scan.
INSERT INTO {db:Identifier}.waste_kind_hour
SELECT
    toStartOfHour(f.Timestamp) AS hour, f.kind, f.session_id, f.repo, f.team, f.developer,
    count(), sum(f.wasted_tokens), sum(f.direct_cost_nanos), sum(f.carried_cost_nanos)
FROM {db:Identifier}.waste_findings AS f FINAL
WHERE (f.session_id, f.scan_id) IN
      (SELECT session_id, max(scan_id) FROM {db:Identifier}.session_scans GROUP BY session_id)
GROUP BY hour, f.kind, f.session_id, f.repo, f.team, f.developer;
