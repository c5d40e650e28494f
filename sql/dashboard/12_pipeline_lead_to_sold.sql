-- Pipeline: Lead -> Sold conversion (PRD P0): of the jobs created in a range of months, the
-- share that reached Sold (lead_to_sold_rate). Filters as in 10_pipeline_value.sql.
SELECT sum(job_count) AS leads, sum(won_count) AS sold,
       round(sum(won_count)::numeric / nullif(sum(job_count), 0), 4) AS lead_to_sold_rate
FROM analytics.pipeline_by_stage
WHERE (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(lead_source)s::text IS NULL OR lead_source = %(lead_source)s)
  AND (%(month_from)s::date IS NULL OR created_month >= %(month_from)s)
  AND (%(month_to)s::date IS NULL OR created_month <= %(month_to)s)
