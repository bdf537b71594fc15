DROP TABLE IF EXISTS {db:Identifier}.rejected_spans;
