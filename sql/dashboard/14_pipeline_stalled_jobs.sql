-- Pipeline: stalled jobs (PRD P0), open jobs more than 30 days in their current stage, oldest
-- first, with the time each entered its stage. now = the current time. Filters (NULL = all):
-- job type, rep, lead source, jobs created in a date range.
SELECT job_id, number, name, record_type_name, stage, status_name, stage_entered_at,
       round(extract(epoch FROM %(now)s::timestamptz - stage_entered_at) / 86400, 1)
           AS days_in_stage,
       sales_rep_name, lead_source, approved_estimate_total
FROM analytics.jobs_current
WHERE is_open AND stage_entered_at < %(now)s::timestamptz - interval '30 days'
  AND (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(sales_rep_id)s::text IS NULL OR sales_rep_id = %(sales_rep_id)s)
  AND (%(lead_source)s::text IS NULL OR lead_source = %(lead_source)s)
  AND (%(date_from)s::date IS NULL OR date_created >= %(date_from)s::date)
  AND (%(date_to)s::date IS NULL OR date_created < %(date_to)s::date + 1)
ORDER BY stage_entered_at, job_id
LIMIT %(limit)s
