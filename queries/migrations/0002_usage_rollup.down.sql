DROP VIEW IF EXISTS {db:Identifier}.usage_by_minute_mv;
DROP TABLE IF EXISTS {db:Identifier}.usage_by_minute;
