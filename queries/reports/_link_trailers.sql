-- fragment: sessions named by Agent-Session trailers, with the one PR their commits belong to (the
-- trailer rule's lookup).
-- A session's PRs: by SHA (a PR's commits, head SHAs) or by the branch its commits were pushed to
-- (any PR with that head branch); kept when there is exactly one.
SELECT tc.repo AS repo, tc.session_id AS session_id, any(tc.pr) AS pr
FROM
(
    SELECT s.repo AS repo, s.session_id AS session_id, x.pr AS pr
    FROM (SELECT repo, sha, session_id FROM {db:Identifier}.pr_commits WHERE session_id != '') AS s
    INNER JOIN
    (
        SELECT repo, sha, pr FROM {db:Identifier}.pr_commits
        WHERE pr != 0 AND sha IN (SELECT sha FROM {db:Identifier}.pr_commits WHERE session_id != '')
        UNION ALL
        SELECT repo, head_sha AS sha, pr FROM {db:Identifier}.pr_events
        WHERE pr != 0 AND kind IN ('opened', 'reopened', 'pushed', 'updated') AND at < {until:DateTime64(3, 'UTC')}
          AND head_sha IN (SELECT sha FROM {db:Identifier}.pr_commits WHERE session_id != '')
    ) AS x ON s.repo = x.repo AND s.sha = x.sha
    UNION ALL
    SELECT s.repo AS repo, s.session_id AS session_id, e.pr AS pr
    FROM (SELECT repo, branch, session_id FROM {db:Identifier}.pr_commits WHERE session_id != '' AND branch != '') AS s
    INNER JOIN
    (
        SELECT DISTINCT repo, head_branch, pr FROM {db:Identifier}.pr_events
        WHERE pr != 0 AND at < {until:DateTime64(3, 'UTC')}
          AND head_branch IN (SELECT branch FROM {db:Identifier}.pr_commits WHERE session_id != '' AND branch != '')
    ) AS e ON s.repo = e.repo AND s.branch = e.head_branch
) AS tc
GROUP BY tc.repo, tc.session_id
HAVING uniqExact(tc.pr) = 1
