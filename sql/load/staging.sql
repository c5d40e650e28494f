-- Per-session staging tables for COPY; emptied at every commit (stage_landing: by land_chunk.sql).
CREATE TEMP TABLE IF NOT EXISTS stage_lookup (
    record_type_id integer, record_type_name text, workflow text, status_id integer,
    status_name text, stage text, alias_of text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_api_ids (id text, date_updated timestamptz) ON COMMIT DELETE ROWS;
-- One landing chunk: raw payload, its normalized row (NULL: none) or its quarantine reason. Kept
-- across commits: each chunk's land_chunk statement empties it (autocommit, one round trip).
CREATE TEMP TABLE IF NOT EXISTS stage_landing (
    entity_type text, entity_id text, payload jsonb, payload_hash text,
    date_updated timestamptz, window_at timestamptz, run_id text, partition_key text,
    row jsonb, reason text, payload_excerpt text
);
