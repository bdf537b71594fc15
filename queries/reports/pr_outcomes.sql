-- report: time-to-merge (and review-velocity, grouped by size)
-- PRs merged (time-to-merge) or first reviewed (review-velocity) in [since, until), as of until,
-- agent-assisted (some spend linked to the PR over [span_since, until)) against the others.
-- Medians interpolate (quantileExactInclusive). Size = additions + deletions, when known.
SELECT
    if(a.assisted = 1, 'agent-assisted', 'other') AS cohort,
    if({by_size:UInt8} = 1,
       multiIf(f.lines_changed IS NULL, 'unknown', f.lines_changed <= 10, 'XS', f.lines_changed <= 100, 'S',
               f.lines_changed <= 500, 'M', f.lines_changed <= 1000, 'L', 'XL'),
       '') AS size,
    count() AS prs,
    round(quantileExactInclusive(0.5)(dateDiff('second', f.opened_at, f.merged_at) / 3600), 2) AS median_hours_to_merge,
    round(quantileExactInclusive(0.9)(dateDiff('second', f.opened_at, f.merged_at) / 3600), 2) AS p90_hours_to_merge,
    round(quantileExactInclusive(0.5)(dateDiff('second', f.opened_at, f.first_review_at) / 3600), 2) AS median_hours_to_first_review,
    countIf(f.lines_changed IS NOT NULL) AS prs_with_size,
    round(quantileExactInclusive(0.5)(f.lines_changed), 1) AS median_lines_changed,
    round(avg(f.lines_changed), 1) AS avg_lines_changed,
    round(quantileExactInclusive(0.5)(dateDiff('second', f.opened_at, f.first_review_at) / 36 / greatest(f.lines_changed, 1)), 2) AS median_review_hours_per_100_lines
FROM (/*include:_pr_facts.sql*/) AS f
LEFT JOIN
(
    SELECT DISTINCT repo_key, link_pr AS pr, toUInt8(1) AS assisted
    FROM (/*include:_linked_usage.sql*/)
    WHERE link_pr != 0
) AS a ON f.repo = a.repo_key AND f.pr = a.pr
WHERE ({repo_key:String} = '' OR f.repo = {repo_key:String})
  AND if({by_size:UInt8} = 1,
         f.first_review_at >= {since:DateTime64(3, 'UTC')} AND f.first_review_at < {until:DateTime64(3, 'UTC')},
         f.state = 'merged' AND f.merged_at >= {since:DateTime64(3, 'UTC')} AND f.merged_at < {until:DateTime64(3, 'UTC')})
GROUP BY cohort, size
ORDER BY cohort, indexOf(['XS', 'S', 'M', 'L', 'XL', 'unknown'], size)
