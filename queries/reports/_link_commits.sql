-- fragment: each known commit of a PR (pr_commits, and head SHAs of PR events before {until}) with
-- its PR (the lowest number) and when the last of its PRs closed (end_at): the commit rule's lookup.
SELECT k.repo AS repo, k.sha AS sha, min(k.pr) AS pr, max(f.end_at) AS end_at
FROM
(
    SELECT repo, sha, pr FROM {db:Identifier}.pr_commits WHERE pr != 0
    UNION ALL
    SELECT repo, head_sha AS sha, pr FROM {db:Identifier}.pr_events
    WHERE pr != 0 AND head_sha != '' AND kind IN ('opened', 'reopened', 'pushed', 'updated')
      AND at < {until:DateTime64(3, 'UTC')}
) AS k
INNER JOIN (/*include:_pr_periods.sql*/) AS f ON k.repo = f.repo AND k.pr = f.pr
GROUP BY k.repo, k.sha
