-- report: defects
-- PRs merged in [since, until), agent (some line agent-touched) against human, and those a defect
-- traces back to: a revert, a fix that names the PR or its commits, or an incident (pr_defects),
-- shown after the merge and before until. A PR merged less than 30 days before the history was
-- last walked (or before until) is provisional: more defects may still come.
SELECT
    key,
    cohort,
    status,
    count() AS prs,
    countIf(n_defects > 0) AS defect_prs,
    sum(n_defects) AS defects,
    sum(n_reverts) AS reverts,
    sum(n_fixes) AS fixes,
    sum(n_incidents) AS incidents,
    arraySlice(arrayFlatten(groupArrayIf(pr_evidence, n_defects > 0)), 1, 20) AS evidence
FROM
(
    SELECT
        p.key AS key, p.cohort AS cohort, p.status AS status,
        ifNull(d.defects, 0) AS n_defects, ifNull(d.reverts, 0) AS n_reverts,
        ifNull(d.fixes, 0) AS n_fixes, ifNull(d.incidents, 0) AS n_incidents,
        arrayMap(e -> concat(p.repo, '#', toString(p.pr), ': ', e), d.evidence) AS pr_evidence
    FROM
    (
        SELECT
            repo, pr,
            max(session_id != '') AS agent,
            if(agent, 'agent', 'human') AS cohort,
            min(merged_at) AS merged,
            if(merged + toIntervalDay(30) > least(min(observed_at), {until:DateTime64(3, 'UTC')}), 'provisional', 'final') AS status,
            argMax(multiIf({by:String} = 'team', team, {by:String} = 'developer', developer,
                           {by:String} = 'model', model, {by:String} = 'intent', intent,
                           {by:String} = 'pr', concat(repo, '#', toString(pr)), repo),
                   (session_id != '', lines_added)) AS key
        FROM (/*include:_line_groups.sql*/)
        WHERE ({cut_team:String} = '' OR team = {cut_team:String})
          AND ({cut_developer:String} = '' OR developer = {cut_developer:String})
        GROUP BY repo, pr
    ) AS p
    LEFT JOIN
    (
        SELECT df.repo AS repo, df.pr AS pr, count() AS defects,
               countIf(df.kind IN ('revert-commit', 'revert-pr')) AS reverts,
               countIf(df.kind = 'fix-reference') AS fixes,
               countIf(df.kind = 'incident') AS incidents,
               groupArray(concat(df.kind, ' ', df.evidence)) AS evidence
        FROM {db:Identifier}.pr_defects AS df FINAL
        INNER JOIN
        (
            SELECT repo, pr, min(merged_at) AS merged_at FROM {db:Identifier}.git_line_fates FINAL
            WHERE pr != 0 GROUP BY repo, pr
        ) AS mg ON df.repo = mg.repo AND df.pr = mg.pr
        WHERE df.at >= mg.merged_at AND df.at < {until:DateTime64(3, 'UTC')}
        GROUP BY df.repo, df.pr
    ) AS d ON p.repo = d.repo AND p.pr = d.pr
)
GROUP BY key, cohort, status
ORDER BY key, cohort, status
