DROP VIEW IF EXISTS {db:Identifier}.session_activity_mv;
DROP TABLE IF EXISTS {db:Identifier}.session_activity;
