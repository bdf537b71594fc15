-- report: churn (days = 14) and survival (days = 30)
-- Lines added by PRs merged in [since, until), agent-touched against human, with what became of
-- them within {days} days of the merge: rewritten (deleted by a hunk that also adds lines) or
-- removed (deleted by a hunk that adds none). A group whose window ends after the history was
-- last walked (or after until) is provisional: counted apart, so no ratio mixes open windows.
SELECT
    multiIf({by:String} = 'team', team, {by:String} = 'developer', developer, {by:String} = 'model', model,
            {by:String} = 'intent', intent, {by:String} = 'pr', concat(repo, '#', toString(pr)), repo) AS key,
    if(session_id != '', 'agent', 'human') AS cohort,
    if(merged_at + toIntervalDay({days:UInt16}) > least(observed_at, {until:DateTime64(3, 'UTC')}), 'provisional', 'final') AS status,
    uniqExact(repo, pr) AS prs,
    sum(lines_added) AS lines_added,
    sum(if({days:UInt16} = 14, rewritten_14d, rewritten_30d)) AS rewritten,
    sum(if({days:UInt16} = 14, removed_14d, removed_30d)) AS removed
FROM (/*include:_line_groups.sql*/)
WHERE ({cut_team:String} = '' OR team = {cut_team:String})
  AND ({cut_developer:String} = '' OR developer = {cut_developer:String})
GROUP BY key, cohort, status
ORDER BY key, cohort DESC, status
