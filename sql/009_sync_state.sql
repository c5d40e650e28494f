-- Each stream's sync state (see gcc_pipeline/sync/state.py): loads are contiguous from
-- covered_from up to high_water_mark, the newest window-field value landed.
CREATE TABLE IF NOT EXISTS jobnimbus_sync_state (
    stream          text PRIMARY KEY,
    covered_from    timestamptz NOT NULL,
    high_water_mark timestamptz,                 -- NULL: the stream had no record yet
    synced_at       timestamptz NOT NULL DEFAULT now(),
    run_id          text
);

-- The raw_reconciled checks look at what one run landed.
CREATE INDEX IF NOT EXISTS jobnimbus_raw_events_run_idx ON jobnimbus_raw_events (run_id);

-- Positions of incremental steps that read what other steps wrote (job_status_history reads the
-- status changes and jobs written since its last build).
CREATE TABLE IF NOT EXISTS gcc_cursors (
    name       text PRIMARY KEY,
    position   timestamptz NOT NULL,
    run_id     text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
