-- fragment: each PR's totals from its linked rows ({rows}: usage_linked_hour and waste_linked_hour
-- rows, in the columns of _linked_usage.sql), the rules as bits; cost_per_pr.sql sums every PR with it
-- too (variant linked_usage), so the report and the stored totals cannot drift apart.
SELECT
    repo_key,
    link_pr,
    min(repo) AS repo,
    uniqExactIf(session_id, session_id != '') AS sessions,
    sum(llm_calls) AS llm_calls,
    sum(tool_calls) AS tool_calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens,
    sum(cost_nanos) AS cost_nanos,
    sum(unpriced_calls) AS unpriced_calls,
    sum(wasted_tokens) AS wasted_tokens,
    sum(wasted_cost_nanos) AS wasted_cost_nanos,
    groupBitOr(toUInt8(multiIf(link_rule = 'branch', 1, link_rule = 'commit', 2, link_rule = 'explicit', 4,
        link_rule = 'trailer', 8, link_rule = 'unattributed', 16, 0))) AS rule_bits,
    min(hour) AS first_hour,
    max(hour) AS last_hour
FROM /*rows*/
GROUP BY repo_key, link_pr
