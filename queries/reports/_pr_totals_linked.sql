-- fragment: every linked row (usage_linked_hour, waste_linked_hour) of the PRs being re-linked
-- ({all} = 1: of every PR), in the columns _pr_totals_rows.sql reads.
(
    SELECT hour, repo, repo_key, session_id, llm_calls, tool_calls, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, unpriced_calls,
           toUInt64(0) AS wasted_tokens, toInt64(0) AS wasted_cost_nanos, link_pr, toString(link_rule) AS link_rule
    FROM {db:Identifier}.usage_linked_hour
    WHERE {all:UInt8} = 1 OR (repo_key, link_pr) IN (SELECT repo_key, link_pr FROM affected)
    UNION ALL
    SELECT hour, repo, repo_key, session_id, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           wasted_tokens, wasted_cost_nanos, link_pr, toString(link_rule)
    FROM {db:Identifier}.waste_linked_hour
    WHERE {all:UInt8} = 1 OR (repo_key, link_pr) IN (SELECT repo_key, link_pr FROM affected)
)
