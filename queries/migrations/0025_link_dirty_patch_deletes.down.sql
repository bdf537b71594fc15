ALTER TABLE {db:Identifier}.link_dirty RESET SETTING enable_block_number_column, enable_block_offset_column;
