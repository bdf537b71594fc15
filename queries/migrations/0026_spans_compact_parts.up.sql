-- Inserted parts of spans stay in the compact format (one data file per part) up to 256 MiB
-- uncompressed; larger parts (merges) are wide (two files per column and stream) as before.
-- A spans part holds about 60 columns, and Map and LowCardinality columns write several streams
-- each, so the default threshold (10 MiB, about 10,000 spans) made every batch of the write-ahead
-- log's drain and every Kafka enrich batch a wide part of a few hundred files. Creating and
-- deleting those files was about a third of the insert's CPU on ext4 (kernel inode allocation,
-- perf); with compact parts a RowBinary insert of 25,000 spans without views took 7-8 µs of CPU per
-- span instead of 12-13 (bench/ingest-ceiling.js, HM_BENCH_CEILING_FORMAT=RowBinary). Only new
-- parts are affected; existing parts keep their format until merged.
ALTER TABLE {db:Identifier}.spans MODIFY SETTING min_bytes_for_wide_part = 268435456;
