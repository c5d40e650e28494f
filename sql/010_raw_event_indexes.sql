-- Nothing reads raw events by window or by (type, id, date) any more: landing looks payloads up
-- by the unique (type, id, hash) index and checks by run_id. Two fewer B-trees per payload landed.
DROP INDEX IF EXISTS jobnimbus_raw_events_window_idx;
DROP INDEX IF EXISTS jobnimbus_raw_events_entity_idx;
