-- These tables changed in this transaction (the analytics step refreshes what reads them).
INSERT INTO gcc_table_changes (table_name, changed_at, run_id)
SELECT t, clock_timestamp(), %(run_id)s FROM unnest(%(tables)s::text[]) AS t
ON CONFLICT (table_name) DO UPDATE SET changed_at = EXCLUDED.changed_at, run_id = EXCLUDED.run_id
