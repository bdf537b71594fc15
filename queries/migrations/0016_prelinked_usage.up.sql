-- Spend already charged to its PR: the link rollup's rows with the PR and rule the linkage rules give
-- them (see reports/_linked_usage.sql), computed with every PR fact stored, plus the PR-side facts the
-- rules and reports read (pr_links, pr_state). Kept current lazily (queries/src/prelink.ts): inserts
-- mark what changed in link_dirty (hours of spans, repositories of PR facts) through the views below,
-- and before a linked report reads, the marked hours and repositories are re-linked. Reports read
-- these tables only when no PR fact is dated at or after the window's end (otherwise the as-of-`until`
-- computation runs, as before).
CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_linked_hour
(
    hour DateTime('UTC'),
    repo LowCardinality(String),
    repo_key LowCardinality(String),
    branch LowCardinality(String),
    commit String,
    pr UInt32 COMMENT 'explicit PR on the span; 0 = none',
    session_id String,
    developer LowCardinality(String),
    team LowCardinality(String),
    intent LowCardinality(String),
    link_pr UInt32 COMMENT 'PR the spend is charged to; 0 = unattributed',
    link_rule LowCardinality(String) COMMENT 'explicit, commit, branch, trailer, unattributed',
    llm_calls UInt64,
    tool_calls UInt64,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_write_tokens UInt64,
    reasoning_tokens UInt64,
    cost_nanos Int64,
    unpriced_calls Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, repo_key, link_pr, session_id, branch, pr, commit, repo, developer, team, intent, link_rule);

-- What the link rules look up, per repository: kind 'commit' (key: sha; the PR it belongs to and when
-- that PR closed), 'branch' (key: head branch; one row per PR), 'trailer' (key: Agent-Session id).
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_links
(
    kind LowCardinality(String),
    repo LowCardinality(String),
    key String,
    pr UInt32,
    end_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (kind, repo, key);

-- Each PR's state from all its facts (the columns of reports/_pr_facts.sql).
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_state
(
    repo LowCardinality(String),
    pr UInt32,
    head_branch String,
    author String,
    opened_at DateTime64(3, 'UTC'),
    state LowCardinality(String),
    merged_at Nullable(DateTime64(3, 'UTC')),
    end_at DateTime('UTC'),
    lines_changed Nullable(UInt64),
    changes_requested_before_merge UInt8,
    failing_check_before_merge UInt8,
    first_review_at Nullable(DateTime64(3, 'UTC'))
)
ENGINE = MergeTree
ORDER BY (repo, pr);

-- What changed since the last re-link: 'hour' rows (hour of spans stored or re-priced) and 'repo'
-- rows (repository of PR facts stored). Rows are deleted by id once re-linked.
CREATE TABLE IF NOT EXISTS {db:Identifier}.link_dirty
(
    id UUID DEFAULT generateUUIDv4(),
    kind LowCardinality(String),
    hour DateTime('UTC'),
    repo String,
    marked_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY marked_at;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.link_dirty_spans_mv TO {db:Identifier}.link_dirty AS
SELECT DISTINCT 'hour' AS kind, toStartOfHour(Timestamp) AS hour, '' AS repo
FROM {db:Identifier}.spans
WHERE span_type IN ('llm', 'tool');

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.link_dirty_pr_events_mv TO {db:Identifier}.link_dirty AS
SELECT DISTINCT 'repo' AS kind, toDateTime(0, 'UTC') AS hour, toString(repo) AS repo
FROM {db:Identifier}.pr_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.link_dirty_pr_commits_mv TO {db:Identifier}.link_dirty AS
SELECT DISTINCT 'repo' AS kind, toDateTime(0, 'UTC') AS hour, toString(repo) AS repo
FROM {db:Identifier}.pr_commits;

-- What is already stored is linked on first use.
INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo)
SELECT DISTINCT 'hour', hour, '' FROM {db:Identifier}.usage_by_link_hour;

INSERT INTO {db:Identifier}.link_dirty (kind, hour, repo)
SELECT DISTINCT 'repo', toDateTime(0, 'UTC'), toString(repo)
FROM (SELECT repo FROM {db:Identifier}.pr_events UNION ALL SELECT repo FROM {db:Identifier}.pr_commits);

-- Start-up rollup repair, bounded: when the rollups were last known to match the spans (a repair at
-- start, or a clean stop), so the next start checks only the partitions of spans written since.
CREATE TABLE IF NOT EXISTS {db:Identifier}.rollup_checks
(
    at DateTime64(3, 'UTC'),
    kind LowCardinality(String) COMMENT 'start-repair, clean-stop'
)
ENGINE = MergeTree
ORDER BY at;
