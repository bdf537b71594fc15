-- Code churn, survival and defect escape from git history (`import git`, `import incidents`, the
-- `issues` webhook). Facts only: SHAs, PR numbers, logins, line counts, times and the reference
-- that links a defect (never commit messages, issue titles or code).
-- Idempotency: a re-import writes the same keys again (ReplacingMergeTree): the latest row wins.

-- Lines added to the default branch by one commit of its first-parent history (a PR's merge, a
-- squash, a direct push), split by the commit inside the PR that wrote them (git blame over
-- merge^1..merge), then followed forward: rewritten (deleted by a hunk that also adds lines) or
-- removed (deleted by a hunk that adds none) within 14 and 30 days of the merge.
CREATE TABLE IF NOT EXISTS {db:Identifier}.git_line_fates
(
    repo LowCardinality(String) COMMENT 'owner/name, lower case',
    merge_sha String COMMENT 'the default-branch commit that brought the lines',
    pr UInt32 COMMENT '0 = not a PR (a direct push)',
    merged_at DateTime64(3, 'UTC'),
    origin_sha String COMMENT 'the commit that wrote the lines (= merge_sha for a squash or a direct push)',
    origin_session String COMMENT 'Agent-Session trailer of the origin commit',
    origin_author LowCardinality(String),
    lines_added UInt32,
    rewritten_14d UInt32,
    removed_14d UInt32,
    rewritten_30d UInt32,
    removed_30d UInt32,
    observed_at DateTime64(3, 'UTC') COMMENT 'history walked up to here: a window ending later is provisional',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (repo, merge_sha, origin_sha);

-- A defect traced to a PR, with the evidence: a revert commit or revert PR naming it, a fix naming
-- it or its commits (Fixes, Reverts, a link), or an incident record naming it.
CREATE TABLE IF NOT EXISTS {db:Identifier}.pr_defects
(
    repo LowCardinality(String),
    pr UInt32,
    defect_key String COMMENT 'kind:<defect commit sha> or incident:<id>',
    kind LowCardinality(String) COMMENT 'revert-commit, revert-pr, fix-reference, incident',
    at DateTime64(3, 'UTC') COMMENT 'when the defect showed: the reverting or fixing commit, or the incident',
    evidence String COMMENT 'the reference that links it, e.g. commit 1a2b3c4 "This reverts commit 5d6e7f8"',
    source LowCardinality(String) COMMENT 'import-git, import-incidents, webhook-issues',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (repo, pr, defect_key);

-- Where the last `import git` of a repository stopped, so the next walks only new commits (plus
-- the 30 days before, whose windows may still be open).
CREATE TABLE IF NOT EXISTS {db:Identifier}.git_walks
(
    repo LowCardinality(String),
    base String,
    head_sha String,
    head_at DateTime64(3, 'UTC'),
    commits UInt64 COMMENT 'first-parent commits walked by that import',
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (repo, base);
