-- fragment: the redundancy findings of _waste_rows.sql, linked through pr_links (variant with_waste of
-- _linked_usage_prelinked.sql).
UNION ALL
SELECT
    u.hour, u.repo, u.repo_key, u.branch, u.session_id, u.developer, u.team, u.intent,
    toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0),
    toInt64(0), toInt64(0), u.wasted_tokens, u.wasted_cost_nanos,
    /*include:_link_pick.sql*/
FROM (/*include:_waste_source.sql*/) AS u
/*include:_link_joins.sql*/
