-- fragment: the linked rows in the window (_linked_usage.sql with the waste, prelinked) of the PRs
-- that have rows outside it (in pr_linked_totals, not whole: see cost_per_pr_totals.sql).
(
    SELECT * FROM (/*include:_linked_usage.sql:with_waste*/)
    WHERE (repo_key, link_pr) IN
          (SELECT repo_key, link_pr FROM {db:Identifier}.pr_linked_totals FINAL
           WHERE present = 1
             AND NOT (first_hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
                      AND first_hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
                      AND last_hour < {until:DateTime64(3, 'UTC')}))
)
