-- report: cost --by <dimension>
-- Tokens and cost in [since, until) grouped by one dimension, read from the per-minute rollup.
SELECT
    /*include:_cost_key.sql*/ AS key,
    /*include:_usage_totals.sql*/
FROM {db:Identifier}.usage_by_minute AS u
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
GROUP BY key
ORDER BY sum(u.cost_nanos) DESC, key
