-- alerts: the tools behind an alert: tool calls of one entity in [since, until), most calls first.
SELECT
    tool_name,
    count() AS calls,
    countIf(is_error = 1) AS errors,
    sum(result_tokens) AS tokens
FROM {db:Identifier}.spans
WHERE Timestamp >= {since:DateTime64(3, 'UTC')}
  AND Timestamp < {until:DateTime64(3, 'UTC')}
  AND span_type = 'tool'
  AND row_version = 0
  AND multiIf(
        {scope:String} = 'developer', developer,
        {scope:String} = 'team', team,
        {scope:String} = 'repo', repo,
        {scope:String} = 'session', session_id,
        ''
      ) = {entity:String}
GROUP BY tool_name
ORDER BY calls DESC, tool_name
LIMIT {limit:UInt32}
