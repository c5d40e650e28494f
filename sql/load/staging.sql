-- Per-session staging tables for COPY; emptied at every commit.
CREATE TEMP TABLE IF NOT EXISTS stage_raw (
    entity_type text, entity_id text, payload jsonb, payload_hash text,
    date_updated timestamptz, window_at timestamptz, run_id text, partition_key text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_quarantine (
    entity_type text, entity_id text, payload_hash text, reason text, payload_excerpt text,
    run_id text, partition_key text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_lookup (
    record_type_id integer, record_type_name text, workflow text, status_id integer,
    status_name text, stage text, alias_of text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_api_ids (id text, date_updated timestamptz) ON COMMIT DELETE ROWS;
-- Normalized rows as JSON lines (landing.py); the upsert types them with jsonb_populate_record.
CREATE TEMP TABLE IF NOT EXISTS stage_rows (row jsonb) ON COMMIT DELETE ROWS;
