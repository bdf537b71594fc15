-- report: cost-per-pr
-- Tokens and cost per (repository, pull request) in [since, until), read from the link rollup
-- (hour granularity), each hour of spend charged to the PR the linkage rules give it (see
-- _linked_usage.sql; `rules` says which applied), with the PR's state as of `until` and the waste
-- the redundancy findings put on it. pr = 0 is the unattributed bucket.
SELECT
    c.repo AS repo,
    c.pr AS pr,
    c.sessions AS sessions,
    c.llm_calls AS llm_calls,
    c.tool_calls AS tool_calls,
    c.input_tokens AS input_tokens,
    c.output_tokens AS output_tokens,
    c.cache_read_tokens AS cache_read_tokens,
    c.cache_write_tokens AS cache_write_tokens,
    c.reasoning_tokens AS reasoning_tokens,
    toString(c.cost) AS cost_nanos,
    c.unpriced_calls AS unpriced_calls,
    w.wasted_tokens AS wasted_tokens,
    toString(w.wasted_cost) AS wasted_cost_nanos,
    toString(c.first_hour) AS first_seen,
    toString(c.last_hour) AS last_seen,
    c.rules AS rules,
    f.state AS state,
    if(f.merged_at IS NULL, NULL, toString(f.merged_at)) AS merged_at
FROM
(
    SELECT
        repo_key,
        link_pr AS pr,
        min(repo) AS repo,
        uniqExactIf(session_id, session_id != '') AS sessions,
        sum(llm_calls) AS llm_calls,
        sum(tool_calls) AS tool_calls,
        sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        sum(cost_nanos) AS cost,
        sum(unpriced_calls) AS unpriced_calls,
        arrayStringConcat(arraySort(groupUniqArray(link_rule)), ',') AS rules,
        min(hour) AS first_hour,
        max(hour) AS last_hour
    FROM (/*include:_linked_usage.sql*/)
    GROUP BY repo_key, link_pr
) AS c
LEFT JOIN (/*include:_pr_facts.sql*/) AS f ON c.repo_key = f.repo AND c.pr = f.pr
LEFT JOIN
(
    SELECT wf.repo_key AS repo_key, wf.pr AS pr, sum(wf.wasted_tokens) AS wasted_tokens, sum(wf.wasted_cost) AS wasted_cost
    FROM
    (
        SELECT
            lower(replaceRegexpOne(replaceRegexpOne(lf.repo, '(\\.git)?/*$', ''), '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?[^/]+/|[^@/:]+@[^:/]+:)', '')) AS repo_key,
            if(lf.pr != 0, lf.pr, sm.pr) AS pr,
            lf.wasted_tokens AS wasted_tokens,
            lf.direct_cost_nanos + lf.carried_cost_nanos AS wasted_cost
        FROM
        (
            SELECT f.session_id AS session_id, f.Timestamp AS Timestamp, f.repo AS repo, f.pr AS pr,
                   f.wasted_tokens AS wasted_tokens, f.direct_cost_nanos AS direct_cost_nanos, f.carried_cost_nanos AS carried_cost_nanos
            FROM {db:Identifier}.waste_findings AS f FINAL
            INNER JOIN
            (
                SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id
            ) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
            WHERE f.Timestamp >= toStartOfHour({since:DateTime64(3, 'UTC')})
              AND f.Timestamp < {until:DateTime64(3, 'UTC')}
              AND ({team:String} = '' OR f.team = {team:String})
              AND ({developer:String} = '' OR f.developer = {developer:String})
        ) AS lf
        LEFT JOIN
        (
            SELECT session_id, hour, any(link_pr) AS pr
            FROM (/*include:_linked_usage.sql:waste_sessions*/)
            GROUP BY session_id, hour
            HAVING uniqExact(link_pr) = 1
        ) AS sm ON lf.session_id = sm.session_id AND toStartOfHour(lf.Timestamp) = sm.hour
    ) AS wf
    GROUP BY wf.repo_key, wf.pr
) AS w ON c.repo_key = w.repo_key AND c.pr = w.pr
ORDER BY c.cost DESC, c.repo, c.pr
