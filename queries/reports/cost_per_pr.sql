-- report: cost-per-pr
-- Tokens and cost per (repository, pull request) in [since, until), read from the per-minute
-- rollup (minute granularity), with the waste the redundancy findings put on each PR.
-- pr = 0 is the bucket of spans with no PR known.
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
    ifNull(w.wasted_tokens, 0) AS wasted_tokens,
    toString(ifNull(w.wasted_cost, 0)) AS wasted_cost_nanos,
    toString(c.first_minute) AS first_seen,
    toString(c.last_minute) AS last_seen
FROM
(
    SELECT
        repo,
        pr,
        uniqExactIf(session_id, session_id != '') AS sessions,
        sum(llm_calls) AS llm_calls,
        sum(tool_calls) AS tool_calls,
        sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens,
        sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens,
        sum(reasoning_tokens) AS reasoning_tokens,
        sum(u.cost_nanos) AS cost,
        sum(unpriced_calls) AS unpriced_calls,
        min(minute) AS first_minute,
        max(minute) AS last_minute
    FROM {db:Identifier}.usage_by_minute AS u
    WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
      AND minute < {until:DateTime64(3, 'UTC')}
      AND ({repo:String} = '' OR repo = {repo:String})
    GROUP BY repo, pr
) AS c
LEFT JOIN
(
    SELECT
        f.repo AS repo,
        f.pr AS pr,
        sum(f.wasted_tokens) AS wasted_tokens,
        sum(f.direct_cost_nanos) + sum(f.carried_cost_nanos) AS wasted_cost
    FROM {db:Identifier}.waste_findings AS f FINAL
    INNER JOIN
    (
        SELECT session_id, max(scan_id) AS scan_id FROM {db:Identifier}.session_scans GROUP BY session_id
    ) AS latest ON f.session_id = latest.session_id AND f.scan_id = latest.scan_id
    WHERE f.Timestamp >= toStartOfMinute({since:DateTime64(3, 'UTC')})
      AND f.Timestamp < {until:DateTime64(3, 'UTC')}
    GROUP BY f.repo, f.pr
) AS w ON c.repo = w.repo AND c.pr = w.pr
ORDER BY c.cost DESC, c.repo, c.pr
SETTINGS join_use_nulls = 1
