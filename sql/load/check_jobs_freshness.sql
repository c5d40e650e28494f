-- Newest date_updated of jobs and its lag behind now, in hours.
SELECT max(date_updated) AS newest_date_updated,
       extract(epoch FROM now() - max(date_updated)) / 3600.0 AS lag_hours,
       count(*) AS jobs
FROM jobs
