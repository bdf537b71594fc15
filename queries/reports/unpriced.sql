-- report: unpriced
-- Models seen without a price in [since, until): LLM calls stored with no cost (unknown, never $0),
-- by model and provider. Reads spans, the current version of each (highest row_version), because
-- the rollup does not keep the tokens of unpriced calls apart. Fix: add the model to HM_PRICES_FILE,
-- then run `harness-meter reprice`.
SELECT
    model,
    provider,
    count() AS calls,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens,
    toString(min(Timestamp)) AS first_seen,
    toString(max(Timestamp)) AS last_seen
FROM
(
    SELECT model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, Timestamp, unpriced
    FROM {db:Identifier}.spans
    WHERE span_type = 'llm'
      AND Timestamp >= {since:DateTime64(3, 'UTC')}
      AND Timestamp < {until:DateTime64(3, 'UTC')}
    ORDER BY row_version DESC
    LIMIT 1 BY TraceId, SpanId
)
WHERE unpriced = 1
GROUP BY model, provider
ORDER BY calls DESC, model, provider
