DROP TABLE IF EXISTS {db:Identifier}.leases;
