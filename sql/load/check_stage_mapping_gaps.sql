-- Every (record type, status) of jobs without a stage, joined as apply_stages.sql joins them
-- (record_type_id + gcc_status_key); the workflow comes from the lookup rows of the record type.
WITH gaps AS (
    SELECT j.record_type_id,
           j.record_type_name,
           gcc_status_key(j.status_name) AS status_key,
           min(j.status_name) AS status_name,
           count(*) AS job_count,
           bool_or(l.record_type_id IS NOT NULL) AS listed_without_stage
    FROM jobs j
    LEFT JOIN workflow_status_lookup l
           ON l.record_type_id = j.record_type_id AND l.status_key = gcc_status_key(j.status_name)
    WHERE l.stage IS NULL
    GROUP BY j.record_type_id, j.record_type_name, gcc_status_key(j.status_name)
)
SELECT g.record_type_id, g.record_type_name, g.status_name, g.job_count, g.listed_without_stage,
       (SELECT min(w.workflow) FROM workflow_status_lookup w
        WHERE w.record_type_id = g.record_type_id) AS workflow
FROM gaps g
ORDER BY g.job_count DESC, g.record_type_name, g.status_name
