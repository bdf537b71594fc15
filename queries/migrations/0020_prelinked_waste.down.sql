DROP VIEW IF EXISTS {db:Identifier}.link_dirty_session_scans_mv;
DELETE FROM {db:Identifier}.link_dirty WHERE kind = 'session';
ALTER TABLE {db:Identifier}.link_dirty DROP COLUMN IF EXISTS session_id;
DROP TABLE IF EXISTS {db:Identifier}.waste_linked_hour;
