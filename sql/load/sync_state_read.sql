SELECT stream, covered_from, high_water_mark, synced_at, run_id FROM jobnimbus_sync_state
