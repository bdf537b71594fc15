-- Whether an LLM call's usage parts add up (input includes cache reads and writes; the 5-minute
-- and 1-hour writes sum to the total). '' = they do, or the producer did not give the parts.
ALTER TABLE {db:Identifier}.spans ADD COLUMN IF NOT EXISTS usage_check LowCardinality(String) DEFAULT '' AFTER reported_cost_nanos;
