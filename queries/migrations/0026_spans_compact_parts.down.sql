ALTER TABLE {db:Identifier}.spans RESET SETTING min_bytes_for_wide_part;
