-- report: spend-per-developer
-- Spend per active developer, per UTC day and over the window. An active developer made at least
-- one LLM call in the period; spend with no developer known is shown apart, never shared out.
SELECT
    period,
    active_developers,
    toString(cost) AS cost_nanos,
    toString(known_cost) AS developer_cost_nanos,
    toString(cost - known_cost) AS unknown_developer_cost_nanos,
    n_llm AS llm_calls,
    n_unpriced AS unpriced_calls
FROM
(
    SELECT
        toString(toDate(hour)) AS period,
        uniqExactIf(developer, developer != '' AND llm_calls > 0) AS active_developers,
        sum(cost_nanos) AS cost,
        sumIf(cost_nanos, developer != '') AS known_cost,
        sum(llm_calls) AS n_llm,
        sum(unpriced_calls) AS n_unpriced
    FROM {db:Identifier}.usage_by_link_hour
    WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')}) AND hour < {until:DateTime64(3, 'UTC')}
      AND ({repo:String} = '' OR repo = {repo:String} OR repo_key = {repo_key:String})
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
    GROUP BY period
    UNION ALL
    SELECT
        'window' AS period,
        uniqExactIf(developer, developer != '' AND llm_calls > 0) AS active_developers,
        sum(cost_nanos) AS cost,
        sumIf(cost_nanos, developer != '') AS known_cost,
        sum(llm_calls) AS n_llm,
        sum(unpriced_calls) AS n_unpriced
    FROM {db:Identifier}.usage_by_link_hour
    WHERE hour >= toStartOfHour({since:DateTime64(3, 'UTC')}) AND hour < {until:DateTime64(3, 'UTC')}
      AND ({repo:String} = '' OR repo = {repo:String} OR repo_key = {repo_key:String})
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
    HAVING count() > 0
)
ORDER BY period = 'window', period
