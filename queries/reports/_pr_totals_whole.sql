-- fragment: 1 when no PR can cross the window's edges (a column of the re-link check's query, see
-- costPerPr): every stored totals row (pr_linked_totals without FINAL, so old versions and PRs with no
-- rows left too) lies inside the window, so pr_totals_cut.sql would count none and cost_per_pr_totals.sql
-- needs no cut rows. A bound, no FINAL: 0 does not mean a PR is cut (then pr_totals_cut.sql counts).
(SELECT min(first_hour) >= toStartOfHour({since:DateTime64(3, 'UTC')})
        AND min(first_hour) >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
        AND max(last_hour) < {until:DateTime64(3, 'UTC')}
 FROM {db:Identifier}.pr_linked_totals)
