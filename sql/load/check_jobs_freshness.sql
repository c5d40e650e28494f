-- Newest date_updated of jobs and its lag, in hours, behind the pipeline clock passed as now.
SELECT max(date_updated) AS newest_date_updated,
       extract(epoch FROM %(now)s::timestamptz - max(date_updated)) / 3600.0 AS lag_hours,
       count(*) AS jobs
FROM jobs
