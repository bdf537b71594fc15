DROP VIEW IF EXISTS {db:Identifier}.usage_by_link_hour_reprice_mv;
DROP VIEW IF EXISTS {db:Identifier}.usage_by_link_hour_mv;
DROP TABLE IF EXISTS {db:Identifier}.usage_by_link_hour;
DROP TABLE IF EXISTS {db:Identifier}.pr_commits;
DROP TABLE IF EXISTS {db:Identifier}.pr_events;
