-- The jobs a history build looks at: those with status changes or job rows written since its
-- cursors (every job when rebuilding). Later history statements join this table. Returns how
-- many there are.
DROP TABLE IF EXISTS history_scope;
CREATE TEMP TABLE history_scope ON COMMIT DROP AS
SELECT c.job_id FROM jobnimbus_status_changes c
WHERE c.job_id IS NOT NULL AND (%(rebuild)s OR c.loaded_at > %(changes_since)s)
UNION
SELECT j.id FROM jobs j
WHERE %(rebuild)s OR j.updated_at > %(jobs_since)s;
CREATE UNIQUE INDEX ON history_scope (job_id);
ANALYZE history_scope;
SELECT count(*) FROM history_scope;
