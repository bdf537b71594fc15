-- optional: a server older than 25.7 never had these settings.
ALTER TABLE {db:Identifier}.link_dirty RESET SETTING enable_block_number_column, enable_block_offset_column;
