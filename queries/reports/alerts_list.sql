-- report: alerts
-- Alert notices (warn, firing, resolved) evaluated in [since, until), newest first, with the outcome of
-- their webhook delivery.
SELECT
    toString(a.at) AS at,
    a.state AS state,
    a.rule_id AS rule_id,
    a.rule_type AS rule_type,
    a.entity_kind AS entity_kind,
    a.entity AS entity,
    toString(a.window_start) AS window_start,
    a.unit AS unit,
    toString(a.figure) AS figure,
    toString(a.threshold) AS threshold,
    ifNull(toString(a.baseline), '') AS baseline,
    a.message AS message,
    d.last_status AS delivery,
    d.attempts AS attempts,
    a.alert_id AS alert_id
FROM {db:Identifier}.alerts AS a
LEFT JOIN
(
    SELECT notice_id, argMax(status, at) AS last_status, count() AS attempts
    FROM {db:Identifier}.alert_deliveries GROUP BY notice_id
) AS d ON a.notice_id = d.notice_id
WHERE a.at >= {since:DateTime64(3, 'UTC')}
  AND a.at < {until:DateTime64(3, 'UTC')}
ORDER BY a.at DESC, a.recorded_at DESC, a.rule_id, a.entity
