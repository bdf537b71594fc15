DROP TABLE IF EXISTS {db:Identifier}.spans;
