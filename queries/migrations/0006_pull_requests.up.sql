-- Pull-request facts (GitHub webhooks, `import prs`, `import git`) and the rollup that links spend to
-- them. PR state over time is kept as events, so metrics can be computed as of any moment.
-- Idempotency: every event has a natural key (opened, merged, closed:<time>, pushed:<sha>,
-- review:<id>:<state>, check_suite:<id>:<conclusion>, …), so a webhook redelivery and an import of
-- the same fact are one row (ReplacingMergeTree on (repo, pr, event_key)).
-- repo is `owner/name` in lower case (GitHub's full_name), the key spans are matched on.
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_events
(
    repo LowCardinality(String) COMMENT 'owner/name, lower case',
    pr UInt32,
    event_key String COMMENT 'natural key of the fact',
    kind LowCardinality(String) COMMENT 'opened, reopened, pushed, updated, review, check, merged, closed',
    at DateTime64(3, 'UTC'),
    author LowCardinality(String) COMMENT 'PR author login, when the source says',
    actor LowCardinality(String) COMMENT 'who did it (the reviewer of a review)',
    head_branch String,
    base_branch String,
    head_sha String,
    created_at Nullable(DateTime64(3, 'UTC')) COMMENT 'PR creation time, when the source says',
    review_state LowCardinality(String) COMMENT 'approved, changes_requested, commented, dismissed',
    check_name LowCardinality(String),
    check_conclusion LowCardinality(String) COMMENT 'success, failure, timed_out, cancelled, …',
    additions Nullable(UInt32),
    deletions Nullable(UInt32),
    changed_files Nullable(UInt32),
    source LowCardinality(String) COMMENT 'webhook, import-prs',
    delivery_id String COMMENT 'X-GitHub-Delivery of the webhook that brought it',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (repo, pr, event_key);

-- Commits known to exist: from push webhooks, a PR's commits (REST) and local git history.
-- session_id comes from an `Agent-Session: <id>` commit trailer. One row per source, so a PR number
-- learnt from one source is not overwritten by another that does not know it.
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_commits
(
    repo LowCardinality(String),
    sha String,
    source LowCardinality(String) COMMENT 'webhook-push, import-prs, import-git',
    pr UInt32 COMMENT '0 = not known from this source',
    branch String,
    session_id String COMMENT 'Agent-Session trailer',
    author LowCardinality(String),
    committed_at DateTime64(3, 'UTC'),
    delivery_id String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (repo, sha, source);

-- Hourly rollup with what linkage needs: branch, commit, explicit PR, session, intent, and the
-- repository key (hourly: a session's spend is a few rows, so PR reports stay fast over months).
-- Fed like usage_by_minute (first versions in full, re-priced versions as deltas).
CREATE TABLE IF NOT EXISTS {db:Identifier}.usage_by_link_hour
(
    hour DateTime('UTC'),
    repo LowCardinality(String),
    repo_key LowCardinality(String) COMMENT 'owner/name, lower case, from the repository URL',
    branch LowCardinality(String),
    commit String,
    pr UInt32 COMMENT 'explicit PR on the span; 0 = none',
    session_id String,
    developer LowCardinality(String),
    team LowCardinality(String),
    intent LowCardinality(String),
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
ORDER BY (hour, repo_key, branch, pr, session_id, commit, repo, developer, team, intent);

-- Backfill from what is already stored (current version of each span), once: only into an empty rollup.
INSERT INTO {db:Identifier}.usage_by_link_hour
SELECT
    toStartOfHour(Timestamp) AS hour,
    repo,
    lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
    branch,
    commit,
    pr,
    session_id,
    developer,
    team,
    intent,
    countIf(span_type = 'llm') AS llm_calls,
    countIf(span_type = 'tool') AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_nanos, 0)) AS cost_nanos,
    toInt64(countIf(unpriced = 1)) AS unpriced_calls
FROM {db:Identifier}.spans FINAL
WHERE span_type IN ('llm', 'tool')
  AND (SELECT count() FROM {db:Identifier}.usage_by_link_hour) = 0
GROUP BY hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_link_hour_mv TO {db:Identifier}.usage_by_link_hour AS
SELECT
    toStartOfHour(Timestamp) AS hour,
    repo,
    lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
    branch,
    commit,
    pr,
    session_id,
    developer,
    team,
    intent,
    countIf(span_type = 'llm') AS llm_calls,
    countIf(span_type = 'tool') AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(ifNull(cost_nanos, 0)) AS cost_nanos,
    toInt64(countIf(unpriced = 1)) AS unpriced_calls
FROM {db:Identifier}.spans
WHERE span_type IN ('llm', 'tool') AND row_version = 0
GROUP BY hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db:Identifier}.usage_by_link_hour_reprice_mv TO {db:Identifier}.usage_by_link_hour AS
SELECT
    toStartOfHour(Timestamp) AS hour,
    repo,
    lower(replaceRegexpOne(replaceRegexpOne(repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
    branch,
    commit,
    pr,
    session_id,
    developer,
    team,
    intent,
    toUInt64(0) AS llm_calls,
    toUInt64(0) AS tool_calls,
    toUInt64(0) AS input_tokens,
    toUInt64(0) AS output_tokens,
    toUInt64(0) AS cache_read_tokens,
    toUInt64(0) AS cache_write_tokens,
    toUInt64(0) AS reasoning_tokens,
    sum(ifNull(cost_nanos, 0) - ifNull(prev_cost_nanos, 0)) AS cost_nanos,
    sum(toInt64(unpriced) - toInt64(prev_unpriced)) AS unpriced_calls
FROM {db:Identifier}.spans
WHERE span_type = 'llm' AND row_version > 0
GROUP BY hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent;
