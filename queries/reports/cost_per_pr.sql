-- report: cost-per-pr
-- Tokens and cost per (repository, pull request) in [since, until), read from the link rollup
-- (hour granularity), each hour of spend charged to the PR the linkage rules give it (see
-- _linked_usage.sql; `rules` says which applied), with the PR's state as of `until` and the waste
-- the redundancy findings put on it (linked by the same rules: _waste_rows.sql). pr = 0 is the unattributed bucket.
SELECT
    c.repo AS repo,
    c.link_pr AS pr,
    c.sessions AS sessions,
    c.llm_calls AS llm_calls,
    c.tool_calls AS tool_calls,
    c.input_tokens AS input_tokens,
    c.output_tokens AS output_tokens,
    c.cache_read_tokens AS cache_read_tokens,
    c.cache_write_tokens AS cache_write_tokens,
    c.reasoning_tokens AS reasoning_tokens,
    toString(c.cost_nanos) AS cost_nanos,
    c.unpriced_calls AS unpriced_calls,
    c.wasted_tokens AS wasted_tokens,
    toString(c.wasted_cost_nanos) AS wasted_cost_nanos,
    toString(c.first_hour) AS first_seen,
    toString(c.last_hour) AS last_seen,
    -- The rules that applied, in name order: a bit each (cheaper than a set of strings per row).
    arrayStringConcat(arrayFilter((r, i) -> bitTest(c.rule_bits, i),
        ['branch', 'commit', 'explicit', 'trailer', 'unattributed'], range(5)), ',') AS rules,
    f.state AS state,
    if(f.merged_at IS NULL, NULL, toString(f.merged_at)) AS merged_at
FROM (/*include:_pr_totals_rows.sql:linked_usage*/) AS c
LEFT JOIN (/*include:_pr_facts.sql*/) AS f ON c.repo_key = f.repo AND c.link_pr = f.pr
ORDER BY c.cost_nanos DESC, c.repo, c.link_pr
