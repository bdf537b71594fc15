-- report: cost --by <dimension> --breakdown model
-- cost_by.sql plus, under each key, one row per model, in one pass over the per-minute rollup:
-- GROUPING SETS gives the (key) rows and the (key, model) rows; is_model tells them apart, since
-- model '' is a real value (tool calls carry no model). sessions are counted within each row, so
-- a session that used two models counts once in its key row and once in each model row.
SELECT
    /*include:_cost_key.sql*/ AS key,
    model,
    1 - grouping(model) AS is_model,
    /*include:_usage_totals.sql*/
FROM {db:Identifier}.usage_by_minute AS u
WHERE minute >= toStartOfMinute({since:DateTime64(3, 'UTC')})
  AND minute < {until:DateTime64(3, 'UTC')}
GROUP BY GROUPING SETS ((key), (key, model))
ORDER BY key, is_model, sum(u.cost_nanos) DESC, model
