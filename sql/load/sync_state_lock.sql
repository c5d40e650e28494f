-- The stream's state, locked until this transaction ends (two runs finishing a stream take turns).
SELECT stream, covered_from, high_water_mark, synced_at, run_id
FROM jobnimbus_sync_state WHERE stream = %(stream)s FOR UPDATE
