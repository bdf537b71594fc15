-- prelink: re-links the link rollup's rows of some hours and repositories into usage_linked_hour
-- ({all} = 1: every row), through pr_links.
INSERT INTO {db:Identifier}.usage_linked_hour
SELECT
    u.hour, u.repo, u.repo_key, u.branch, u.commit, u.pr, u.session_id, u.developer, u.team, u.intent,
    /*include:_link_pick.sql*/,
    u.llm_calls, u.tool_calls, u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens,
    u.reasoning_tokens, u.cost_nanos, u.unpriced_calls
FROM
(
    SELECT
        hour, repo, repo_key, toString(branch) AS branch, commit, pr, session_id, developer, team, intent,
        sum(llm_calls) AS llm_calls, sum(tool_calls) AS tool_calls, sum(input_tokens) AS input_tokens,
        sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_tokens) AS cache_write_tokens, sum(reasoning_tokens) AS reasoning_tokens,
        sum(cost_nanos) AS cost_nanos, sum(unpriced_calls) AS unpriced_calls
    FROM {db:Identifier}.usage_by_link_hour
    WHERE {all:UInt8} = 1 OR hour IN {hours:Array(DateTime('UTC'))} OR repo_key IN {repos:Array(String)}
    GROUP BY hour, repo, repo_key, branch, commit, pr, session_id, developer, team, intent
) AS u
/*include:_link_joins.sql*/
