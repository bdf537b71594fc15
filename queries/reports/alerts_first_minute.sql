-- alerts: the first minute with stored usage (how many past weeks of history exist).
SELECT count() AS n, toString(min(minute)) AS first_minute FROM {db:Identifier}.usage_by_minute
