-- fragment: _linked_usage.sql read from usage_linked_hour, where each row already carries the PR and
-- rule the linkage rules give it (queries/src/prelink.ts keeps it current). Used when every PR fact
-- stored is dated before {until}, so the links as of {until} are the links stored.
SELECT
    hour, repo, repo_key, branch, session_id, developer, team, intent, llm_calls, tool_calls,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nanos,
    unpriced_calls, wasted_tokens, wasted_cost_nanos, link_pr, link_rule
FROM
(
    SELECT
        hour, repo, repo_key, toString(branch) AS branch, session_id, developer, team, intent,
        llm_calls, tool_calls, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
        reasoning_tokens, cost_nanos, unpriced_calls, toUInt64(0) AS wasted_tokens, toInt64(0) AS wasted_cost_nanos,
        link_pr, toString(link_rule) AS link_rule
    FROM {db:Identifier}.usage_linked_hour
    WHERE hour >= toStartOfHour({span_since:DateTime64(3, 'UTC')})
      AND hour < {until:DateTime64(3, 'UTC')}
      AND ({repo:String} = '' OR repo = {repo:String} OR repo_key = lower({repo:String}))
      AND ({team:String} = '' OR team = {team:String})
      AND ({developer:String} = '' OR developer = {developer:String})
      AND 1 = 1 /*filter*/
    /*waste_rows*/
)
