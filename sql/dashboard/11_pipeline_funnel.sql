-- Pipeline: jobs by stage, the funnel (PRD P0), with their approved estimates. Filters as in
-- 10_pipeline_value.sql.
SELECT stage, stage_order, sum(job_count) AS jobs, sum(estimate_value) AS estimate_value
FROM analytics.pipeline_by_stage
WHERE (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(lead_source)s::text IS NULL OR lead_source = %(lead_source)s)
  AND (%(month_from)s::date IS NULL OR created_month >= %(month_from)s)
  AND (%(month_to)s::date IS NULL OR created_month <= %(month_to)s)
GROUP BY stage, stage_order
ORDER BY stage_order NULLS LAST, stage
