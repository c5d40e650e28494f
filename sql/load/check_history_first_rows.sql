-- Every job with a status has its first status in history at its creation: a 'created' row, or
-- (in warehouses that stored a logged "(none) => X" as a change) a row at or before date_created
-- (1 second of slack). Without it velocity starts at the first change and funnels undercount.
WITH first_rows AS (
    SELECT h.job_id, min(h.changed_at) AS first_at, bool_or(h.source = 'created') AS has_created
    FROM job_status_history h
    GROUP BY h.job_id
), missing AS (
    SELECT j.id
    FROM jobs j
    LEFT JOIN first_rows f ON f.job_id = j.id
    WHERE j.status_name IS NOT NULL
      AND NOT coalesce(f.has_created
                       OR f.first_at <= j.date_created + interval '1 second', false)
)
SELECT (SELECT count(*) FROM jobs WHERE status_name IS NOT NULL) AS jobs,
       (SELECT count(*) FROM jobs WHERE status_name IS NULL) AS jobs_without_status,
       (SELECT count(*) FROM missing) AS jobs_without_first_row,
       coalesce((SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM missing ORDER BY id
                                                       LIMIT %(examples)s) e), '{}') AS examples
