DROP TABLE IF EXISTS {db:Identifier}.agent_metric_points;
