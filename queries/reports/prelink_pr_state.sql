-- prelink: each PR's state from all its facts ({until} far in the future), of some repositories
-- ({all} = 1: every one), into pr_state.
INSERT INTO {db:Identifier}.pr_state
SELECT
    repo, pr, head_branch, author, opened_at, state, merged_at, end_at, lines_changed,
    changes_requested_before_merge, failing_check_before_merge, first_review_at
FROM (/*include:_pr_facts.sql*/)
WHERE {all:UInt8} = 1 OR repo IN {repos:Array(String)}
