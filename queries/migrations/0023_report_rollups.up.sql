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

-- Each PR's totals over all its linked rows (usage_linked_hour and waste_linked_hour: the columns of
-- cost_per_pr.sql's per-PR aggregate, the rules as bits), so cost-per-pr reads one row per PR whose
-- rows all lie inside the window (at 10M spans / 20k PRs: 20k rows instead of 180k hourly rows), and
-- the hourly rows only of the PRs the window cuts (reports/cost_per_pr_totals.sql). Rewritten per PR by
-- the re-link (queries/src/prelink.ts) for the PRs whose rows it deleted or inserted: the latest
-- version of a PR wins (read with FINAL); present = 0 when it has no rows left. After a whole re-link
-- (a bulk load) they are rebuilt by the next pass: a link_dirty row of kind 'totals' says so, and
-- cost-per-pr reads the hourly rows meanwhile.
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_linked_totals
(
    repo_key LowCardinality(String),
    link_pr UInt32,
    version UInt64,
    present UInt8,
    repo String,
    sessions UInt64,
    llm_calls UInt64,
    tool_calls UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    reasoning_tokens UInt64,
    cost_nanos Int64,
    unpriced_calls Int64,
    wasted_tokens UInt64,
    wasted_cost_nanos Int64,
    rule_bits UInt8,
    first_hour DateTime('UTC'),
    last_hour DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (repo_key, link_pr);

-- What is already stored is re-linked on first use (as in migrations 0016 and 0020): every hour
-- holding spend or findings is marked, which re-links all of it and fills both tables.
INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo)
SELECT DISTINCT 'hour', hour, '' FROM {db:Identifier}.usage_by_link_hour
UNION DISTINCT
SELECT DISTINCT 'hour', toStartOfHour(Timestamp), '' FROM {db:Identifier}.waste_findings;
