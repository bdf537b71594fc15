-- alerts: how many LLM calls without a price the rollup holds in [since, until) (minutes overlapping
-- it): the unpriced rule reads spans only when this is not zero.
SELECT toString(sum(unpriced_calls)) AS calls
FROM {db:Identifier}.usage_by_minute
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
