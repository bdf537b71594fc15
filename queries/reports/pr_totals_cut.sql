-- report: how many PRs a window cuts (cost_per_pr_totals.sql sums their hourly rows)
SELECT count() AS n FROM (/*include:_pr_totals_cut.sql*/)
