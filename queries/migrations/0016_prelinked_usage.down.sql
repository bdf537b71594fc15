DROP VIEW IF EXISTS {db:Identifier}.link_dirty_spans_mv;
DROP VIEW IF EXISTS {db:Identifier}.link_dirty_pr_events_mv;
DROP VIEW IF EXISTS {db:Identifier}.link_dirty_pr_commits_mv;
DROP TABLE IF EXISTS {db:Identifier}.link_dirty;
DROP TABLE IF EXISTS {db:Identifier}.pr_state;
DROP TABLE IF EXISTS {db:Identifier}.pr_links;
DROP TABLE IF EXISTS {db:Identifier}.usage_linked_hour;
DROP TABLE IF EXISTS {db:Identifier}.rollup_checks;
