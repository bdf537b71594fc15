-- fragment: the redundancy findings already charged to their PR (waste_linked_hour, migration 0020),
-- in place of _waste_rows_prelinked.sql when the findings' hours hold for the window (no finding in
-- the part of the last hour at or after {until}: see prelink.ts), filtered as _waste_source.sql
-- filters the findings.
UNION ALL
SELECT
    hour, repo, repo_key, toString(branch), session_id, developer, team, intent,
    toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0),
    toInt64(0), toInt64(0), wasted_tokens, wasted_cost_nanos, link_pr, toString(link_rule)
FROM {db:Identifier}.waste_linked_hour
WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
  AND hour < {until:DateTime64(3, 'UTC')}
  AND ({team:String} = '' OR team = {team:String})
  AND ({developer:String} = '' OR developer = {developer:String})
  AND ({repo:String} = '' OR finding_repo = {repo:String}
       OR lower(replaceRegexpOne(replaceRegexpOne(finding_repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) = lower({repo:String}))
