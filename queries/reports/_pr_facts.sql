-- fragment: the state of every PR as of {until}, from its events (included by linkage reports).
-- Read without FINAL: a fact stored twice changes none of these aggregates (latest by (at, ingested_at)).
-- state: merged | closed | open (by the last of merged/closed/reopened); end_at: when it closed,
-- or 2105-12-31 while open. first_* times are of the first such event, has_* whether one exists.
SELECT
    repo,
    pr,
    last_head_branch AS head_branch,
    last_author AS author,
    opened_at,
    multiIf(last_state_kind = 'merged', 'merged', last_state_kind = 'closed', 'closed', 'open') AS state,
    if(state = 'merged', merged_at_raw, NULL) AS merged_at,
    if(state = 'open', toDateTime('2105-12-31 00:00:00', 'UTC'), toDateTime(closed_at_raw, 'UTC')) AS end_at,
    if(has_size, toNullable(toUInt64(last_additions) + last_deletions), NULL) AS lines_changed,
    has_changes_requested AND first_changes_requested_at < merged_at_raw AS changes_requested_before_merge,
    has_failing_check AND first_failing_check_at < merged_at_raw AS failing_check_before_merge,
    if(has_review, toNullable(first_review_at), NULL) AS first_review_at
FROM
(
    SELECT
        repo,
        pr,
        argMaxIf(head_branch, (at, ingested_at), head_branch != '') AS last_head_branch,
        argMaxIf(author, (at, ingested_at), author != '') AS last_author,
        least(min(at), ifNull(min(created_at), toDateTime64('2105-12-31 00:00:00', 3, 'UTC'))) AS opened_at,
        argMaxIf(kind, at, kind IN ('merged', 'closed', 'reopened')) AS last_state_kind,
        maxIf(at, kind = 'merged') AS merged_at_raw,
        maxIf(at, kind IN ('merged', 'closed')) AS closed_at_raw,
        countIf(additions IS NOT NULL AND deletions IS NOT NULL) > 0 AS has_size,
        argMaxIf(assumeNotNull(additions), (at, ingested_at), additions IS NOT NULL AND deletions IS NOT NULL) AS last_additions,
        argMaxIf(assumeNotNull(deletions), (at, ingested_at), additions IS NOT NULL AND deletions IS NOT NULL) AS last_deletions,
        countIf(kind = 'review' AND review_state = 'changes_requested') > 0 AS has_changes_requested,
        minIf(at, kind = 'review' AND review_state = 'changes_requested') AS first_changes_requested_at,
        countIf(kind = 'check' AND check_conclusion IN ('failure', 'timed_out', 'startup_failure')) > 0 AS has_failing_check,
        minIf(at, kind = 'check' AND check_conclusion IN ('failure', 'timed_out', 'startup_failure')) AS first_failing_check_at,
        countIf(kind = 'review' AND review_state IN ('approved', 'changes_requested', 'commented')) > 0 AS has_review,
        minIf(at, kind = 'review' AND review_state IN ('approved', 'changes_requested', 'commented')) AS first_review_at
    FROM {db:Identifier}.pr_events
    WHERE pr != 0 AND at < {until:DateTime64(3, 'UTC')}
    GROUP BY repo, pr
)
