ALTER TABLE {db:Identifier}.spans DROP COLUMN IF EXISTS usage_check;
