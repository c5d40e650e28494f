-- One staged chunk (stage_landing) landed in one statement: payloads into the raw events (the
-- same payload fetched twice is stored once), records that could not be normalized into the
-- quarantine (pointing at their raw event when the payload could be stored), rows into {table}
-- (never replacing a newer version), and the staging table emptied. Returns the new raw
-- payloads, the rows inserted and the rows inserted or updated.
WITH staged AS MATERIALIZED (
    SELECT * FROM stage_landing
),
raw AS (
    INSERT INTO jobnimbus_raw_events
        (entity_type, entity_id, payload, payload_hash, date_updated, window_at, run_id,
         partition_key)
    SELECT entity_type, entity_id, payload, payload_hash, date_updated, window_at, run_id,
           partition_key
    FROM staged WHERE payload IS NOT NULL
    ON CONFLICT ON CONSTRAINT jobnimbus_raw_events_payload_once DO NOTHING
    RETURNING id, entity_type, entity_id, payload_hash
),
quarantined AS (
    INSERT INTO jobnimbus_quarantine
        (entity_type, entity_id, raw_event_id, payload_hash, reason, payload_excerpt, run_id,
         partition_key)
    SELECT q.entity_type, q.entity_id, coalesce(n.id, e.id), q.payload_hash, q.reason,
           q.payload_excerpt, q.run_id, q.partition_key
    FROM staged q
    LEFT JOIN raw n
           ON n.entity_type = q.entity_type AND n.entity_id = q.entity_id
          AND n.payload_hash = q.payload_hash
    LEFT JOIN jobnimbus_raw_events e
           ON q.payload IS NOT NULL AND e.entity_type = q.entity_type
          AND e.entity_id = q.entity_id AND e.payload_hash = q.payload_hash
    WHERE q.reason IS NOT NULL
    ON CONFLICT ON CONSTRAINT jobnimbus_quarantine_once DO NOTHING
    RETURNING 1
),
upserted AS (
    INSERT INTO {table} AS t ({cols})
    SELECT DISTINCT ON (s.id) {staged}
    FROM (SELECT r.*, j.payload AS _payload
          FROM staged j, jsonb_populate_record(NULL::{table}, j.row) r
          WHERE j.row IS NOT NULL) s
    ORDER BY s.id, s.{version} DESC NULLS LAST, s.payload_hash DESC
    ON CONFLICT (id) DO UPDATE SET {updates}
    WHERE (coalesce(EXCLUDED.{version}, '-infinity'), EXCLUDED.payload_hash)
        > (coalesce(t.{version}, '-infinity'), coalesce(t.payload_hash, ''))
    RETURNING (xmax = 0) AS inserted
),
cleared AS (
    DELETE FROM stage_landing
)
SELECT (SELECT count(*) FROM raw),
       (SELECT count(*) FROM upserted WHERE inserted),
       (SELECT count(*) FROM upserted),
       (SELECT count(*) FROM quarantined)
