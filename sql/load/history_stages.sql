-- Stage (and status id) of history rows of the jobs in history_scope that have none yet; every
-- row when %(all)s (the mapping changed). By status name first (aliases included), then by the
-- row's status id within the job's record type (a renamed status keeps its id).
UPDATE job_status_history h
SET stage = l.stage, status_id = coalesce(h.status_id, l.status_id)
FROM jobs j
JOIN workflow_status_lookup l ON l.record_type_id = j.record_type_id
WHERE h.job_id = j.id
  AND l.status_key = gcc_status_key(h.status_name)
  AND (%(all)s OR (h.stage IS NULL AND h.job_id IN (SELECT job_id FROM history_scope)))
  AND (h.stage IS DISTINCT FROM l.stage OR (h.status_id IS NULL AND l.status_id IS NOT NULL));
UPDATE job_status_history h
SET stage = l.stage
FROM jobs j
JOIN workflow_status_lookup l ON l.record_type_id = j.record_type_id AND l.alias_of IS NULL
WHERE h.job_id = j.id
  AND h.status_id IS NOT NULL AND l.status_id = h.status_id AND l.stage IS NOT NULL
  AND h.stage IS NULL
  AND (%(all)s OR h.job_id IN (SELECT job_id FROM history_scope))
  AND NOT EXISTS (SELECT 1 FROM workflow_status_lookup n
                  WHERE n.record_type_id = j.record_type_id AND n.stage IS NOT NULL
                    AND n.status_key = gcc_status_key(h.status_name))
