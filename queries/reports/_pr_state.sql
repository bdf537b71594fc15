-- fragment: _pr_facts.sql materialized from all PR facts (table pr_state; prelinked reports).
SELECT
    repo, pr, head_branch, author, opened_at, state, merged_at, end_at, lines_changed,
    changes_requested_before_merge, failing_check_before_merge, first_review_at
FROM {db:Identifier}.pr_state
