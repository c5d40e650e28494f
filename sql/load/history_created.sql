-- Each job's first status, at its creation (source 'created'): real accounts log no activity
-- for it, and without it a job whose only change was "Lead => Lost" never reached Lead and
-- velocity would start at the first change. The first status is the first change's previous
-- status; a change logged as "(none) => X" is itself the first status; a job with no change
-- yet is still in it. One row per job (partial unique index job_status_history_created_once),
-- corrected when the first change arrives after the job: the statement is rerunnable.
-- The time is date_created, or 1 s before the first change when that comes earlier.
-- For the jobs in history_scope.
WITH affected AS (
    SELECT job_id AS id FROM history_scope
), first_change AS (
    SELECT DISTINCT ON (c.job_id)
           c.job_id, c.previous_status_name, c.previous_status_id, c.status_name, c.status_id,
           c.changed_at
    FROM jobnimbus_status_changes c
    JOIN affected a ON a.id = c.job_id
    ORDER BY c.job_id, c.changed_at, c.id
), first_status AS (
    SELECT j.id AS job_id, j.record_type_id,
           CASE WHEN f.job_id IS NULL THEN j.status_name
                WHEN f.previous_status_name IS NULL THEN f.status_name
                ELSE f.previous_status_name END AS status_name,
           CASE WHEN f.job_id IS NULL THEN j.status_id
                WHEN f.previous_status_name IS NULL THEN f.status_id
                ELSE f.previous_status_id END AS status_id,
           CASE WHEN f.job_id IS NULL OR f.previous_status_name IS NULL
                THEN coalesce(j.date_created, f.changed_at, j.date_status_change, j.date_updated)
                ELSE least(j.date_created, f.changed_at - interval '1 second') END AS changed_at
    FROM jobs j
    JOIN affected a ON a.id = j.id
    LEFT JOIN first_change f ON f.job_id = j.id
), staged AS (
    SELECT DISTINCT ON (fs.job_id)
           fs.job_id, coalesce(fs.status_id, ln.status_id) AS status_id, fs.status_name,
           coalesce(ln.stage, li.stage) AS stage, fs.changed_at,
           EXISTS (SELECT 1 FROM job_status_history h
                   WHERE h.job_id = fs.job_id AND h.changed_at = fs.changed_at
                     AND h.status_name = fs.status_name AND h.source <> 'created') AS recorded
    FROM first_status fs
    LEFT JOIN workflow_status_lookup ln
           ON ln.record_type_id = fs.record_type_id AND ln.status_key = gcc_status_key(fs.status_name)
    LEFT JOIN workflow_status_lookup li
           ON li.record_type_id = fs.record_type_id AND li.status_id = fs.status_id
          AND li.alias_of IS NULL
    WHERE fs.status_name IS NOT NULL AND fs.changed_at IS NOT NULL
    ORDER BY fs.job_id, li.status_key
), superseded AS (
    -- an older warehouse recorded the first status as an activity or poll row: that row is it
    DELETE FROM job_status_history h
    USING staged s
    WHERE s.recorded AND h.job_id = s.job_id AND h.source = 'created'
)
INSERT INTO job_status_history AS h (job_id, status_id, status_name, stage, changed_at, source)
SELECT job_id, status_id, status_name, stage, changed_at, 'created'
FROM staged
WHERE NOT recorded
ON CONFLICT (job_id) WHERE source = 'created' DO UPDATE
SET status_id = EXCLUDED.status_id, status_name = EXCLUDED.status_name, stage = EXCLUDED.stage,
    changed_at = EXCLUDED.changed_at, recorded_at = now()
WHERE (h.status_name, h.changed_at, h.status_id, h.stage)
      IS DISTINCT FROM (EXCLUDED.status_name, EXCLUDED.changed_at, EXCLUDED.status_id, EXCLUDED.stage)
