-- Pipeline: average days per stage (PRD P0): days spent in a stage per visit that ended, for
-- jobs created in a range of months. Filters as in 10_pipeline_value.sql.
SELECT round(sum(days_in_lead) / nullif(sum(left_lead), 0), 2) AS lead,
       round(sum(days_in_estimating) / nullif(sum(left_estimating), 0), 2) AS estimating,
       round(sum(days_in_sold) / nullif(sum(left_sold), 0), 2) AS sold,
       round(sum(days_in_production) / nullif(sum(left_production), 0), 2) AS in_production,
       round(sum(days_in_receivable) / nullif(sum(left_receivable), 0), 2) AS accounts_receivable
FROM analytics.pipeline_by_stage
WHERE (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(lead_source)s::text IS NULL OR lead_source = %(lead_source)s)
  AND (%(month_from)s::date IS NULL OR created_month >= %(month_from)s)
  AND (%(month_to)s::date IS NULL OR created_month <= %(month_to)s)
