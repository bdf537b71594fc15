-- The re-link deletes the marks it has re-linked (queries/src/prelink.ts) on every pass. As a
-- lightweight DELETE run as a mutation, that waits for every part of link_dirty to be rewritten: 0.8 to
-- 1.8 s for the 2,347 marks of a 10M-span bulk load on the loaded 2-core machine, in the first report.
-- With the block number and offset columns kept, the DELETE can instead write a patch part (a
-- lightweight update, lightweight_delete_mode = 'lightweight_update', ClickHouse 25.7+), which reads
-- apply at once: 0.15 to 0.2 s in the same conditions. Existing parts keep working (the patch applies
-- to them too); servers without lightweight updates fall back to the mutation.
-- optional: a server older than 25.7 does not know these settings; the re-link then keeps the mutation.
ALTER TABLE {db:Identifier}.link_dirty MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
