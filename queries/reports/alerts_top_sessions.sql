-- alerts: the sessions behind an alert: top sessions by cost of one entity in [since, until).
SELECT
    session_id,
    argMax(developer, minute) AS last_developer,
    toString(sum(cost_nanos)) AS cost,
    sum(llm_calls) AS calls_llm,
    sum(tool_calls) AS calls_tool,
    sum(input_tokens + output_tokens) AS tokens
FROM {db:Identifier}.usage_by_minute
WHERE minute >= {since:DateTime64(3, 'UTC')}
  AND minute < {until:DateTime64(3, 'UTC')}
  AND session_id != ''
  AND multiIf(
        {scope:String} = 'developer', developer,
        {scope:String} = 'team', team,
        {scope:String} = 'repo', repo,
        {scope:String} = 'session', session_id,
        {scope:String} = 'model', concat(provider, '/', model),
        ''
      ) = {entity:String}
GROUP BY session_id
ORDER BY sum(cost_nanos) DESC, session_id
LIMIT {limit:UInt32}
