-- fragment: the linked stream with the waste (_linked_usage.sql:with_waste) as the {rows} of
-- _pr_totals_rows.sql: cost_per_pr.sql sums every PR the way the per-PR totals are written.
(/*include:_linked_usage.sql:with_waste*/)
