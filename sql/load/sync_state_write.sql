INSERT INTO jobnimbus_sync_state (stream, covered_from, high_water_mark, synced_at, run_id)
VALUES (%(stream)s, %(covered_from)s, %(high_water_mark)s, now(), %(run_id)s)
ON CONFLICT (stream) DO UPDATE
SET covered_from = EXCLUDED.covered_from, high_water_mark = EXCLUDED.high_water_mark,
    synced_at = EXCLUDED.synced_at, run_id = EXCLUDED.run_id
RETURNING stream, covered_from, high_water_mark, synced_at, run_id
