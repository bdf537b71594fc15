-- fragment: for linkage, each PR's head branch and when it closed (end_at; 2105-12-31 while open),
-- as of {until}. A lighter _pr_facts.sql.
SELECT
    repo,
    pr,
    last_head AS head_branch,
    if(last_state IN ('merged', 'closed'), toDateTime(closed_raw, 'UTC'), toDateTime('2105-12-31 00:00:00', 'UTC')) AS end_at
FROM
(
    SELECT
        repo,
        pr,
        argMaxIf(head_branch, (at, ingested_at), head_branch != '') AS last_head,
        argMaxIf(kind, at, kind IN ('merged', 'closed', 'reopened')) AS last_state,
        maxIf(at, kind IN ('merged', 'closed')) AS closed_raw
    FROM {db:Identifier}.pr_events
    WHERE pr != 0 AND at < {until:DateTime64(3, 'UTC')}
    GROUP BY repo, pr
)
