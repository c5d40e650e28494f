-- Quarantine rows point at their raw event when the payload could be stored.
INSERT INTO jobnimbus_quarantine
    (entity_type, entity_id, raw_event_id, payload_hash, reason, payload_excerpt, run_id, partition_key)
SELECT q.entity_type, q.entity_id, r.id, q.payload_hash, q.reason, q.payload_excerpt, q.run_id,
       q.partition_key
FROM stage_quarantine q
LEFT JOIN jobnimbus_raw_events r
       ON r.entity_type = q.entity_type AND r.entity_id = q.entity_id
      AND r.payload_hash = q.payload_hash
ON CONFLICT ON CONSTRAINT jobnimbus_quarantine_once DO NOTHING
