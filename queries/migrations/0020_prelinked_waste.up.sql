-- Waste already charged to its PR, as spend is (migration 0016): the redundancy findings of each
-- session's latest scan, summed per hour with the PR and rule the linkage rules give them (the rows of
-- reports/_waste_rows_prelinked.sql), so cost-per-pr reads two small tables instead of joining the
-- findings with the link rollup per query. Kept by the same lazy re-link (queries/src/prelink.ts):
-- marked hours (spans stored or re-priced) and repositories (PR facts) are re-linked as before, and
-- sessions are marked when a scan is recorded (session_scans), since a new scan replaces the
-- session's findings. finding_repo is the findings' own repository, which the report's repo filter
-- reads (as the findings' filter did); last_at tells whether a window ending inside an hour cuts the
-- hour's findings (then the report reads the findings, as before).
CREATE TABLE IF NOT EXISTS {db:Identifier}.waste_linked_hour
(
    hour DateTime('UTC'),
    repo LowCardinality(String),
    repo_key LowCardinality(String),
    branch LowCardinality(String),
    session_id String,
    developer LowCardinality(String),
    team LowCardinality(String),
    intent LowCardinality(String),
    finding_repo LowCardinality(String),
    link_pr UInt32 COMMENT 'PR the waste is charged to; 0 = unattributed',
    link_rule LowCardinality(String),
    wasted_tokens SimpleAggregateFunction(sum, UInt64),
    wasted_cost_nanos SimpleAggregateFunction(sum, Int64),
    last_at SimpleAggregateFunction(max, DateTime64(9, 'UTC')) COMMENT 'newest finding of the row'
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, repo_key, link_pr, session_id, repo, branch, developer, team, intent, finding_repo, link_rule);

-- Session marks: a scan recorded (its findings replace the session's earlier ones).
ALTER TABLE {db:Identifier}.link_dirty ADD COLUMN IF NOT EXISTS session_id String DEFAULT '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.link_dirty_session_scans_mv TO {db:Identifier}.link_dirty AS
SELECT DISTINCT 'session' AS kind, toDateTime(0, 'UTC') AS hour, '' AS repo, session_id
FROM {db:Identifier}.session_scans;

-- What is already stored is linked on first use: the hours that hold findings.
INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo)
SELECT DISTINCT 'hour', toStartOfHour(Timestamp), '' FROM {db:Identifier}.waste_findings;
