-- report: how many PRs a window cuts (cost_per_pr_totals.sql sums their hourly rows), and whether
-- the totals wait for a pass after a whole re-link (a 'totals' mark: then cost_per_pr.sql reads)
SELECT count() AS n, (SELECT count() FROM {db:Identifier}.link_dirty WHERE kind = 'totals') AS stale
FROM (/*include:_pr_totals_cut.sql*/)
