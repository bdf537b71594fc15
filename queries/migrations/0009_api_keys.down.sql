ALTER TABLE {db:Identifier}.spans DROP COLUMN IF EXISTS key_id;
DROP TABLE IF EXISTS {db:Identifier}.api_keys;
