-- Status names of history rows without a stage, per record type, as check_stage_mapping_gaps.sql
-- lists them for jobs: a status (or an old name of a renamed one) the mapping file lacks.
WITH gaps AS (
    SELECT j.record_type_id,
           j.record_type_name,
           gcc_status_key(h.status_name) AS status_key,
           min(h.status_name) AS status_name,
           count(*) AS history_rows,
           count(DISTINCT h.job_id) AS job_count,
           bool_or(l.record_type_id IS NOT NULL) AS listed_without_stage
    FROM job_status_history h
    LEFT JOIN jobs j ON j.id = h.job_id
    LEFT JOIN workflow_status_lookup l
           ON l.record_type_id = j.record_type_id AND l.status_key = gcc_status_key(h.status_name)
    WHERE h.stage IS NULL
    GROUP BY j.record_type_id, j.record_type_name, gcc_status_key(h.status_name)
)
SELECT g.record_type_id, g.record_type_name, g.status_name, g.history_rows, g.job_count,
       g.listed_without_stage,
       (SELECT min(w.workflow) FROM workflow_status_lookup w
        WHERE w.record_type_id = g.record_type_id) AS workflow
FROM gaps g
ORDER BY g.history_rows DESC, g.record_type_name, g.status_name
