DROP TABLE IF EXISTS {db:Identifier}.pr_linked_totals;
DROP TABLE IF EXISTS {db:Identifier}.waste_kind_hour;
