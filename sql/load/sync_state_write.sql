-- Every stream's new state in one statement (arrays of the same length, one entry per stream).
INSERT INTO jobnimbus_sync_state (stream, covered_from, high_water_mark, synced_at, run_id)
SELECT s.stream, s.covered_from, s.high_water_mark, now(), %(run_id)s
FROM unnest(%(streams)s::text[], %(covered_from)s::timestamptz[],
            %(high_water_mark)s::timestamptz[]) AS s(stream, covered_from, high_water_mark)
ON CONFLICT (stream) DO UPDATE
SET covered_from = EXCLUDED.covered_from, high_water_mark = EXCLUDED.high_water_mark,
    synced_at = EXCLUDED.synced_at, run_id = EXCLUDED.run_id
RETURNING stream, covered_from, high_water_mark, synced_at, run_id
