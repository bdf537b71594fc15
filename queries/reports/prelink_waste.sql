-- prelink: re-links the redundancy findings of some sessions ({all} = 1: all)
-- into waste_linked_hour (migration 0020), through pr_links: the rows _waste_rows_prelinked.sql
-- computes per query, summed per hour, for the whole time range (window parameters: all, no filters).
INSERT INTO {db:Identifier}.waste_linked_hour
SELECT
    hour, repo, repo_key, branch, session_id, developer, team, intent, finding_repo, link_pr, link_rule,
    sum(wasted_tokens), sum(wasted_cost_nanos), max(finding_at)
FROM
(
    SELECT
        u.hour AS hour, u.repo AS repo, u.repo_key AS repo_key, u.branch AS branch,
        u.session_id AS session_id, u.developer AS developer, u.team AS team, u.intent AS intent,
        u.finding_repo AS finding_repo,
        /*include:_link_pick.sql*/,
        u.wasted_tokens AS wasted_tokens, u.wasted_cost_nanos AS wasted_cost_nanos,
        u.finding_at AS finding_at
    FROM (/*include:_waste_source.sql:relink*/) AS u
    /*include:_link_joins.sql*/
    WHERE {all:UInt8} = 1 OR u.session_id IN {sessions:Array(String)}
)
GROUP BY hour, repo, repo_key, branch, session_id, developer, team, intent, finding_repo, link_pr, link_rule
