-- Status history from the status changes of the jobs in history_scope (parsed at landing), each
-- row with its stage when the job and its record type's mapping are known: by status name (old
-- names of renamed statuses resolve through their aliases), else by the status id the activity
-- carried (a rename keeps the id). A change with no previous status ("(none) => X") is the
-- job's first status: history_created.sql records it as the job's 'created' row.
INSERT INTO job_status_history
    (job_id, status_id, status_name, previous_status_name, stage, changed_at, source, activity_id)
SELECT DISTINCT ON (c.job_id, c.changed_at, c.status_name)
       c.job_id, coalesce(c.status_id, ln.status_id), c.status_name, c.previous_status_name,
       coalesce(ln.stage, li.stage), c.changed_at, 'activity', c.id
FROM history_scope s
JOIN jobnimbus_status_changes c ON c.job_id = s.job_id
LEFT JOIN jobs j ON j.id = c.job_id
LEFT JOIN workflow_status_lookup ln
       ON ln.record_type_id = j.record_type_id AND ln.status_key = gcc_status_key(c.status_name)
LEFT JOIN workflow_status_lookup li
       ON li.record_type_id = j.record_type_id AND li.status_id = c.status_id AND li.alias_of IS NULL
WHERE c.previous_status_name IS NOT NULL
ORDER BY c.job_id, c.changed_at, c.status_name, c.id, li.status_key
ON CONFLICT ON CONSTRAINT job_status_history_once DO NOTHING
