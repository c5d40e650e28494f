-- A change seen between two fetches of a job: its current status differs from the last one known.
INSERT INTO job_status_history (job_id, status_id, status_name, changed_at, source)
SELECT j.id, j.status_id, j.status_name,
       coalesce(j.date_status_change, j.date_updated, j.date_created), 'poll'
FROM history_scope s
JOIN jobs j ON j.id = s.job_id
LEFT JOIN LATERAL (
    SELECT h.status_name FROM job_status_history h
    WHERE h.job_id = j.id ORDER BY h.changed_at DESC, h.id DESC LIMIT 1
) last ON true
WHERE j.status_name IS NOT NULL
  AND coalesce(j.date_status_change, j.date_updated, j.date_created) IS NOT NULL
  AND last.status_name IS DISTINCT FROM j.status_name
ON CONFLICT ON CONSTRAINT job_status_history_once DO NOTHING
