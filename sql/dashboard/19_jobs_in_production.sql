-- Operations (PRD P2): jobs in production, longest first.
SELECT job_id, number, name, record_type_name, status_name, stage_entered_at, sales_rep_name,
       approved_estimate_total, has_subcontractor
FROM analytics.jobs_current
WHERE stage = 'In Production'
ORDER BY stage_entered_at, job_id
LIMIT %(limit)s
