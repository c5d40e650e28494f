-- Pipeline: total pipeline value (PRD P0): approved estimates of live jobs in Estimating, Sold
-- and In Production. Filters (NULL = all): job type, lead source, jobs created in a range of
-- months. (One rep: 15_pipeline_of_a_rep.sql.)
SELECT coalesce(sum(pipeline_value), 0) AS pipeline_value,
       coalesce(sum(job_count) FILTER (WHERE stage IN ('Estimating', 'Sold', 'In Production')), 0)
           AS jobs
FROM analytics.pipeline_by_stage
WHERE (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(lead_source)s::text IS NULL OR lead_source = %(lead_source)s)
  AND (%(month_from)s::date IS NULL OR created_month >= %(month_from)s)
  AND (%(month_to)s::date IS NULL OR created_month <= %(month_to)s)
