-- Status history from the status-change activities of the jobs in scope (parsed at landing), each
-- row with its stage when the job and its record type's mapping are already known.
INSERT INTO job_status_history
    (job_id, status_id, status_name, previous_status_name, stage, changed_at, source, activity_id)
SELECT DISTINCT ON (c.job_id, c.changed_at, c.status_name)
       c.job_id, l.status_id, c.status_name, c.previous_status_name, l.stage, c.changed_at,
       'activity', c.id
FROM history_scope s
JOIN jobnimbus_status_changes c ON c.job_id = s.job_id
LEFT JOIN jobs j ON j.id = c.job_id
LEFT JOIN workflow_status_lookup l
       ON l.record_type_id = j.record_type_id AND l.status_key = gcc_status_key(c.status_name)
ORDER BY c.job_id, c.changed_at, c.status_name, c.id
ON CONFLICT ON CONSTRAINT job_status_history_once DO NOTHING
