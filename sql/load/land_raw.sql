-- The same payload fetched twice is stored once.
INSERT INTO jobnimbus_raw_events
    (entity_type, entity_id, payload, payload_hash, date_updated, window_at, run_id, partition_key)
SELECT entity_type, entity_id, payload, payload_hash, date_updated, window_at, run_id, partition_key
FROM stage_raw
ON CONFLICT ON CONSTRAINT jobnimbus_raw_events_payload_once DO NOTHING
