-- fragment: the link rules' lookups c (commit), b (branch) and t (trailer) for rows `u`, read from
-- pr_links (materialized from all PR facts: the prelinked variant of _linked_usage.sql's joins).
LEFT JOIN
(
    SELECT repo, key AS sha, pr, end_at FROM {db:Identifier}.pr_links WHERE kind = 'commit'
) AS c ON u.repo_key = c.repo AND u.commit = c.sha
ASOF LEFT JOIN
(
    SELECT repo, key AS head_branch, pr, end_at FROM {db:Identifier}.pr_links WHERE kind = 'branch'
) AS b ON u.repo_key = b.repo AND u.branch = b.head_branch AND u.hour <= b.end_at
LEFT JOIN
(
    SELECT repo, key AS session_id, pr FROM {db:Identifier}.pr_links WHERE kind = 'trailer'
) AS t ON u.repo_key = t.repo AND u.session_id = t.session_id
