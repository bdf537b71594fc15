-- prelink: rewrites the totals of the PRs whose linked rows a re-link deleted or inserted
-- ({repo_keys}/{prs}; {all} = 1: every PR, into an empty table) in pr_linked_totals (migration 0023),
-- as version {version}: present = 0 for a PR with no rows left.
INSERT INTO {db:Identifier}.pr_linked_totals
WITH affected AS
(
    SELECT k.1 AS repo_key, k.2 AS link_pr
    FROM (SELECT arrayJoin(arrayZip({repo_keys:Array(String)}, {prs:Array(UInt32)})) AS k)
)
SELECT
    a.repo_key, a.link_pr, {version:UInt64}, t.present, t.repo, t.sessions, t.llm_calls, t.tool_calls,
    t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens, t.reasoning_tokens,
    t.cost_nanos, t.unpriced_calls, t.wasted_tokens, t.wasted_cost_nanos, t.rule_bits, t.first_hour, t.last_hour
FROM
(
    SELECT repo_key, link_pr FROM affected
    UNION DISTINCT
    SELECT repo_key, link_pr FROM {db:Identifier}.usage_linked_hour WHERE {all:UInt8} = 1
    UNION DISTINCT
    SELECT repo_key, link_pr FROM {db:Identifier}.waste_linked_hour WHERE {all:UInt8} = 1
) AS a
LEFT JOIN
(
    SELECT toUInt8(1) AS present, * FROM (/*include:_pr_totals_rows.sql:pr_totals*/)
) AS t ON a.repo_key = t.repo_key AND a.link_pr = t.link_pr
