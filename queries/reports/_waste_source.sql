-- fragment: redundancy findings (latest scan of each session) in [since, until) as link-rollup rows
-- (columns of usage_by_link_hour plus wasted_*), each with the branch, commit and explicit PR of its
-- session's costliest rollup row of the same hour, so the same linkage rules charge the waste; and
-- finding_repo and finding_at, the finding's own repository and time. Variant relink (prelink_waste.sql): only the findings and
-- rollup rows of the sessions being re-linked.
SELECT
    lf.hour AS hour,
    if(r.k.2 != '', r.k.1, lf.repo) AS repo,
    if(r.k.2 != '', r.k.2, lower(replaceRegexpOne(replaceRegexpOne(lf.repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', ''))) AS repo_key,
    r.k.3 AS branch,
    r.k.4 AS commit,
    if(lf.pr != 0, lf.pr, r.k.5) AS pr,
    lf.session_id AS session_id,
    lf.developer AS developer,
    lf.team AS team,
    r.k.6 AS intent,
    toUInt64(0) AS llm_calls, toUInt64(0) AS tool_calls, toUInt64(0) AS input_tokens,
    toUInt64(0) AS output_tokens, toUInt64(0) AS cache_read_tokens, toUInt64(0) AS cache_write_tokens,
    toUInt64(0) AS reasoning_tokens, toInt64(0) AS cost_nanos, toInt64(0) AS unpriced_calls,
    lf.wasted_tokens AS wasted_tokens,
    lf.wasted_cost AS wasted_cost_nanos,
    lf.repo AS finding_repo,
    lf.at AS finding_at
FROM
(
    SELECT toStartOfHour(f.Timestamp) AS hour, f.Timestamp AS at, f.session_id AS session_id, toString(f.repo) AS repo, f.pr AS pr,
           toString(f.developer) AS developer, toString(f.team) AS team, f.wasted_tokens AS wasted_tokens,
           f.direct_cost_nanos + f.carried_cost_nanos AS wasted_cost
    FROM {db:Identifier}.waste_findings AS f FINAL
    INNER JOIN
    (
        SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id
    ) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
    WHERE f.Timestamp >= toStartOfHour({since:DateTime64(3, 'UTC')})
      AND f.Timestamp < {until:DateTime64(3, 'UTC')}
      AND ({team:String} = '' OR f.team = {team:String})
      AND ({developer:String} = '' OR f.developer = {developer:String})
      AND ({repo:String} = '' OR f.repo = {repo:String}
           OR lower(replaceRegexpOne(replaceRegexpOne(f.repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) = lower({repo:String}))
      /*findings_filter*/
) AS lf
LEFT JOIN
(
    SELECT session_id, hour,
           argMax((toString(repo), toString(repo_key), toString(branch), commit, pr, toString(intent)), cost_nanos) AS k
    FROM {db:Identifier}.usage_by_link_hour
    WHERE session_id IN (SELECT session_id FROM {db:Identifier}.waste_findings
                         WHERE Timestamp >= toStartOfHour({since:DateTime64(3, 'UTC')}) AND Timestamp < {until:DateTime64(3, 'UTC')}
                         /*rollup_filter*/)
      AND hour >= toStartOfHour({since:DateTime64(3, 'UTC')}) AND hour < {until:DateTime64(3, 'UTC')}
    GROUP BY session_id, hour
) AS r ON lf.session_id = r.session_id AND lf.hour = r.hour
