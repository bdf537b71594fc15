DROP TABLE IF EXISTS {db:Identifier}.waste_kind_hour;
