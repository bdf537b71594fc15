-- fragment: the linked rows in the window (_linked_usage.sql with the waste, prelinked) of the PRs the
-- window cuts (_pr_totals_cut.sql), bounded by their last hour.
(
    WITH cut AS (/*include:_pr_totals_cut.sql*/)
    SELECT * FROM (/*include:_linked_usage.sql:with_waste*/)
    WHERE hour <= (SELECT max(last_hour) FROM cut)
      AND (repo_key, link_pr) IN (SELECT repo_key, link_pr FROM cut)
)
