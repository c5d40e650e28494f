-- The streams' states, locked until this transaction ends (two runs finishing take turns).
SELECT stream, covered_from, high_water_mark, synced_at, run_id
FROM jobnimbus_sync_state WHERE stream = ANY (%(streams)s::text[])
ORDER BY stream
FOR UPDATE
