-- fragment: the PRs a window cuts: with linked rows in [since, until) and outside it (pr_linked_totals,
-- migration 0023); cost_per_pr_totals.sql reads the others as their totals row.
SELECT repo_key, link_pr, last_hour FROM {db:Identifier}.pr_linked_totals FINAL
WHERE present = 1
  AND last_hour >= least(toStartOfHour({since:DateTime64(3, 'UTC')}), toStartOfHour({span_since:DateTime64(3, 'UTC')}))
  AND first_hour < {until:DateTime64(3, 'UTC')}
  AND NOT (first_hour >= toStartOfHour({since:DateTime64(3, 'UTC')})
           AND first_hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
           AND last_hour < {until:DateTime64(3, 'UTC')})
