-- prelink: the link rules' lookups of some repositories ({all} = 1: every one) from all PR facts
-- ({until} far in the future), into pr_links.
INSERT INTO {db:Identifier}.pr_links (kind, repo, key, pr, end_at)
SELECT 'commit', repo, sha, pr, end_at FROM (/*include:_link_commits.sql*/)
WHERE {all:UInt8} = 1 OR repo IN {repos:Array(String)}
UNION ALL
SELECT 'branch', repo, head_branch, pr, end_at FROM (/*include:_pr_periods.sql*/)
WHERE head_branch != '' AND ({all:UInt8} = 1 OR repo IN {repos:Array(String)})
UNION ALL
SELECT 'trailer', repo, session_id, pr, toDateTime('2105-12-31 00:00:00', 'UTC') FROM (/*include:_link_trailers.sql*/)
WHERE {all:UInt8} = 1 OR repo IN {repos:Array(String)}
