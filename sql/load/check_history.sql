-- Status history consistency: no repeated status between consecutive rows of a job, and no
-- change before the job was created (1 second of clock slack).
WITH ordered AS (
    SELECT h.id, h.job_id, h.status_name, h.changed_at,
           lag(h.status_name) OVER (PARTITION BY h.job_id ORDER BY h.changed_at, h.id) AS prev
    FROM job_status_history h
), repeated AS (
    SELECT job_id FROM ordered WHERE gcc_status_key(status_name) = gcc_status_key(prev)
), early AS (
    SELECT h.job_id
    FROM job_status_history h
    JOIN jobs j ON j.id = h.job_id
    WHERE h.changed_at < j.date_created - interval '1 second'
)
SELECT (SELECT count(*) FROM job_status_history) AS history_rows,
       (SELECT count(*) FROM repeated) AS repeated_status_rows,
       (SELECT count(*) FROM early) AS changes_before_job_created,
       coalesce((SELECT array_agg(DISTINCT job_id) FROM (SELECT job_id FROM repeated LIMIT %(examples)s) r), '{}')
           AS repeated_examples,
       coalesce((SELECT array_agg(DISTINCT job_id) FROM (SELECT job_id FROM early LIMIT %(examples)s) e), '{}')
           AS early_examples
