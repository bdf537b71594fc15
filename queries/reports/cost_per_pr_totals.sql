-- report: cost-per-pr, from each PR's totals (pr_linked_totals, migration 0023)
-- The rows of cost_per_pr.sql with the links prelinked and no repo/team/developer filter: a PR whose
-- linked rows all lie in the window is read as its one totals row; the PRs the window cuts are summed
-- from their hourly rows in the window, as cost_per_pr.sql sums every PR.
-- Sent as RowBinaryWithNamesAndTypes and read by readCostPerPrRowBinary (queries/src/cost-per-pr-rows.ts):
-- the values as they are, no text made per row (cost_per_pr.sql's projection formats the same values as
-- text: toString of the money and hours, the rules' names, the state's name; the reader makes the same).
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
    c.cost_nanos AS cost_nanos,
    c.unpriced_calls AS unpriced_calls,
    c.wasted_tokens AS wasted_tokens,
    c.wasted_cost_nanos AS wasted_cost_nanos,
    c.first_hour AS first_seen,
    c.last_hour AS last_seen,
    c.rule_bits AS rules,
    toUInt8(multiIf(f.state = 'open', 1, f.state = 'merged', 2, f.state = 'closed', 3, 0)) AS state,
    f.merged_at AS merged_at
FROM
(
    SELECT repo_key, link_pr, repo, sessions, llm_calls, tool_calls, input_tokens, output_tokens,
           cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos, unpriced_calls,
           wasted_tokens, wasted_cost_nanos, rule_bits, first_hour, last_hour
    FROM {db:Identifier}.pr_linked_totals FINAL
    WHERE present = 1
      AND first_hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
      AND first_hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
      AND last_hour < {until:DateTime64(3, 'UTC')}
    /*include:_pr_totals_cut_rows.sql*/
) AS c
LEFT JOIN (/*include:_pr_facts.sql*/) AS f ON c.repo_key = f.repo AND c.link_pr = f.pr
ORDER BY c.cost_nanos DESC, c.repo, c.link_pr
