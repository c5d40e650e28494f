-- When each table last changed, and when each analytics view was last refreshed (and from which
-- definition): the analytics step refreshes only the views whose inputs changed since, so a run
-- that changed nothing refreshes and records nothing.
CREATE TABLE IF NOT EXISTS gcc_table_changes (
    table_name text PRIMARY KEY,
    changed_at timestamptz NOT NULL,
    run_id     text
);
COMMENT ON TABLE gcc_table_changes IS
    'When each warehouse table last changed (rows inserted, updated or marked gone), written by the step that changed it; the analytics step compares it with gcc_view_refreshes.';
COMMENT ON COLUMN gcc_table_changes.table_name IS 'The table (public schema) that changed.';
COMMENT ON COLUMN gcc_table_changes.changed_at IS 'When the step that changed it wrote its last change (clock_timestamp of that transaction).';
COMMENT ON COLUMN gcc_table_changes.run_id IS 'The Dagster run that changed it.';

CREATE TABLE IF NOT EXISTS gcc_view_refreshes (
    view_name    text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    code_version text NOT NULL,
    run_id       text
);
COMMENT ON TABLE gcc_view_refreshes IS
    'When each analytics view was last refreshed and from which version of its sql/views file.';
COMMENT ON COLUMN gcc_view_refreshes.view_name IS 'The view (schema analytics).';
COMMENT ON COLUMN gcc_view_refreshes.refreshed_at IS 'The moment the changes it includes were read: everything that changed before it is in the view.';
COMMENT ON COLUMN gcc_view_refreshes.code_version IS 'Hash of the view''s file when it was refreshed (a changed file refreshes the view).';
COMMENT ON COLUMN gcc_view_refreshes.run_id IS 'The Dagster run that refreshed it.';

-- Fingerprints of what a derived table was last built from (the stage lookup: the mapping file
-- and account/settings), so a rebuild from the same inputs is skipped.
CREATE TABLE IF NOT EXISTS gcc_fingerprints (
    name        text PRIMARY KEY,
    fingerprint text NOT NULL,
    run_id      text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE gcc_fingerprints IS
    'Fingerprint of the inputs a derived table was last built from (workflow_status_lookup: the mapping file and account/settings); the same inputs skip the rebuild.';
COMMENT ON COLUMN gcc_fingerprints.name IS 'The derived table.';
COMMENT ON COLUMN gcc_fingerprints.fingerprint IS 'SHA-256 of its inputs, as the pipeline computes it.';
COMMENT ON COLUMN gcc_fingerprints.run_id IS 'The Dagster run that built it.';
COMMENT ON COLUMN gcc_fingerprints.updated_at IS 'When it was built.';
