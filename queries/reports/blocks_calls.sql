-- report: blocks (input rows)
-- Anthropic LLM calls in [since, until), oldest first, the current version of each span (highest
-- row_version): the 5-hour billing blocks of Claude subscriptions are grouped from these in
-- TypeScript (queries/src/blocks.ts), because a block's start depends on the block before it.
SELECT
    toUnixTimestamp64Milli(Timestamp) AS ms,
    model,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_write_tokens,
    toString(ifNull(cost_nanos, 0)) AS cost_nanos,
    unpriced
FROM
(
    SELECT Timestamp, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_nanos, unpriced
    FROM {db:Identifier}.spans
    WHERE span_type = 'llm'
      AND provider = 'anthropic'
      AND Timestamp >= {since:DateTime64(3, 'UTC')}
      AND Timestamp < {until:DateTime64(3, 'UTC')}
    ORDER BY row_version DESC
    LIMIT 1 BY TraceId, SpanId
)
ORDER BY ms
