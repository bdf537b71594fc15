DROP TABLE IF EXISTS {db:Identifier}.alert_deliveries;
DROP TABLE IF EXISTS {db:Identifier}.alerts;
