DROP VIEW IF EXISTS {db:Identifier}.usage_by_hour_reprice_mv;
DROP VIEW IF EXISTS {db:Identifier}.usage_by_hour_mv;
DROP TABLE IF EXISTS {db:Identifier}.usage_by_hour;
