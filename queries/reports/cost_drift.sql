-- report: cost-drift
-- LLM calls in [since, until) whose reported cost (reported_cost_nanos, e.g. Claude Code's
-- cost_usd) differs from the computed one by more than the tolerance, relative to the computed
-- cost ({tolerance_bp} in basis points: 100 = 1%), grouped by model, provider and reason:
--   missing price     no price row matched: the computed cost is unknown;
--   cache accounting  the reported cost matches the computed one with the cache tokens priced as
--                     fresh input, or with the cache tokens not charged at all;
--   tier              the call has more than 200,000 input tokens, where long-context tiers apply
--                     and producers disagree (cliff or marginal pricing, premium windows);
--   other             none of the above (a different price table, a discount, a promotion).
-- Reads spans, the current version of each (highest row_version).
SELECT
    model,
    provider,
    reason,
    count() AS calls,
    toString(sum(reported)) AS reported_nanos,
    toString(sum(computed)) AS computed_nanos,
    toString(sum(reported - computed)) AS drift_nanos,
    toString(min(Timestamp)) AS first_seen,
    toString(max(Timestamp)) AS last_seen
FROM
(
    SELECT
        model,
        provider,
        Timestamp,
        assumeNotNull(reported_cost_nanos) AS reported,
        ifNull(cost_nanos, 0) AS computed,
        toInt128(greatest(toInt64(input_tokens) - toInt64(cache_read_tokens) - toInt64(cache_write_tokens), 0)) AS fresh,
        -- cost if every input token (cache included) were fresh input, at the fresh input price
        if(fresh > 0,
           intDiv(toInt128(ifNull(input_cost_nanos, 0)) * input_tokens * 2 + fresh, 2 * fresh) + ifNull(output_cost_nanos, 0),
           NULL) AS cache_as_input,
        -- cost if cache reads and writes were not charged
        ifNull(input_cost_nanos, 0) + ifNull(output_cost_nanos, 0) AS cache_free,
        multiIf(
            cost_nanos IS NULL, 'missing price',
            cache_read_tokens + cache_write_tokens > 0
                AND ((cache_as_input IS NOT NULL AND abs(reported - cache_as_input) * 10000 <= cache_as_input * {tolerance_bp:UInt32})
                     OR abs(reported - cache_free) * 10000 <= cache_free * {tolerance_bp:UInt32}), 'cache accounting',
            input_tokens > 200000, 'tier',
            'other'
        ) AS reason,
        cost_nanos
    FROM
    (
        SELECT *
        FROM {db:Identifier}.spans
        WHERE span_type = 'llm'
          AND reported_cost_nanos IS NOT NULL
          AND Timestamp >= {since:DateTime64(3, 'UTC')}
          AND Timestamp < {until:DateTime64(3, 'UTC')}
        ORDER BY row_version DESC
        LIMIT 1 BY TraceId, SpanId
    )
)
WHERE cost_nanos IS NULL OR abs(reported - computed) * 10000 > computed * {tolerance_bp:UInt32}
GROUP BY model, provider, reason
ORDER BY abs(sum(reported - computed)) DESC, model, provider, reason
