DROP VIEW IF EXISTS {db:Identifier}.usage_by_link_minute_reprice_mv;
DROP VIEW IF EXISTS {db:Identifier}.usage_by_link_minute_mv;
DROP TABLE IF EXISTS {db:Identifier}.usage_by_link_minute;
DROP TABLE IF EXISTS {db:Identifier}.pr_commits;
DROP TABLE IF EXISTS {db:Identifier}.pr_events;
