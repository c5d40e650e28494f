-- Status-change activities, parsed once at landing ("Status: A => B" / "Status changed from A to B"),
-- so history is built from a narrow table instead of re-reading raw payloads.
CREATE TABLE IF NOT EXISTS jobnimbus_status_changes (
    id                   text PRIMARY KEY,         -- the activity's jnid
    job_id               text,
    previous_status_name text,
    status_name          text NOT NULL,
    changed_at           timestamptz NOT NULL,     -- the activity's date_created
    date_updated         timestamptz,
    payload_hash         text,
    loaded_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobnimbus_status_changes_changed_idx ON jobnimbus_status_changes (changed_at);
CREATE INDEX IF NOT EXISTS jobnimbus_status_changes_job_idx ON jobnimbus_status_changes (job_id);
