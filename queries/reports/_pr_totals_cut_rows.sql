-- fragment: in cost_per_pr_totals.sql, the per-PR sums of the PRs the window cuts, from their hourly
-- rows (replaced by _none.sql when the window cuts none: the query is then a third cheaper to plan).
UNION ALL
SELECT * FROM (/*include:_pr_totals_rows.sql:pr_totals_window*/)
