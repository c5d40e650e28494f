-- Stage (and status id) of the history rows of the jobs in scope that have none yet; every row
-- when %(all)s (the mapping changed).
UPDATE job_status_history h
SET stage = l.stage, status_id = coalesce(h.status_id, l.status_id)
FROM jobs j
JOIN workflow_status_lookup l ON l.record_type_id = j.record_type_id
WHERE h.job_id = j.id
  AND l.status_key = gcc_status_key(h.status_name)
  AND (%(all)s OR (h.stage IS NULL AND h.job_id IN (SELECT job_id FROM history_scope)))
  AND (h.stage IS DISTINCT FROM l.stage OR (h.status_id IS NULL AND l.status_id IS NOT NULL))
