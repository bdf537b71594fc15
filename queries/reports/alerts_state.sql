-- alerts: the latest state of every alert, per rule and entity (open: warn or firing).
SELECT
    rule_id,
    entity,
    latest.1 AS alert_id,
    latest.2 AS state,
    toString(latest.3) AS window_start,
    toString(latest.4) AS at,
    latest.5 AS entity_kind
FROM
(
    SELECT
        rule_id,
        entity,
        argMax(tuple(alert_id, state, window_start, at, entity_kind), (at, recorded_at)) AS latest
    FROM {db:Identifier}.alerts
    GROUP BY rule_id, entity
)
ORDER BY rule_id, entity
