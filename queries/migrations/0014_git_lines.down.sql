DROP TABLE IF EXISTS {db:Identifier}.git_walks;
DROP TABLE IF EXISTS {db:Identifier}.pr_defects;
DROP TABLE IF EXISTS {db:Identifier}.git_line_fates;
