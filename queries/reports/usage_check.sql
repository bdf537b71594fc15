-- report: usage-check
-- LLM calls in [since, until) whose usage parts do not add up, by model, provider, source and check:
--   cache_exceeds_input   cache reads + writes > input tokens: the producer most likely sent input
--                         without cache (Anthropic's meaning) as the conventions' input, which
--                         includes it; the cost counts fresh input as 0, so it is likely too low;
--   cache_split_mismatch  5-minute + 1-hour cache writes differ from the total writes given.
-- Fix the producer's mapping (see "How costs are computed" in the README). Reads spans, the current
-- version of each (highest row_version).
SELECT
    model,
    provider,
    source,
    usage_check AS check,
    count() AS calls,
    sum(input_tokens) AS input_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    any(TraceId) AS example_trace,
    toString(min(Timestamp)) AS first_seen,
    toString(max(Timestamp)) AS last_seen
FROM
(
    SELECT model, provider, source, usage_check, input_tokens, cache_read_tokens, cache_write_tokens, TraceId, Timestamp
    FROM {db:Identifier}.spans
    WHERE span_type = 'llm'
      AND usage_check != ''
      AND Timestamp >= {since:DateTime64(3, 'UTC')}
      AND Timestamp < {until:DateTime64(3, 'UTC')}
    ORDER BY row_version DESC
    LIMIT 1 BY TraceId, SpanId
)
GROUP BY model, provider, source, check
ORDER BY calls DESC, model, provider, source, check
