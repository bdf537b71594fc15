DROP TABLE IF EXISTS {db:Identifier}.session_scans;
DROP TABLE IF EXISTS {db:Identifier}.waste_findings;
