-- Operations (PRD P2): open jobs with a subcontractor work order.
SELECT job_id, number, name, stage, status_name, sales_rep_name, expenses
FROM analytics.jobs_current
WHERE has_subcontractor AND is_open
ORDER BY stage_order, job_id
LIMIT %(limit)s
