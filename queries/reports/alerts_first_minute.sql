-- alerts: the first minute with stored usage (how many past weeks of history exist).
-- Reads the start of the table in primary-key order (minute leads it): a few granules per part, so
-- the cost does not grow with the stored size, unlike min() over the whole rollup.
SELECT count() AS n, toString(min(minute)) AS first_minute
FROM
(
    SELECT minute FROM {db:Identifier}.usage_by_minute ORDER BY minute LIMIT 1
)
