-- fragment: redundancy findings (latest scan of each session) in [since, until) as extra rows of the
-- linked stream (_linked_usage.sql, variant with_waste), each with the branch, commit and explicit PR of
-- its session's costliest rollup row of the same hour, so the same linkage rules charge the waste.
UNION ALL
/*include:_waste_source.sql*/
