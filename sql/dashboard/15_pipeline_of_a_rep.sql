-- Pipeline of one sales rep (PRD P0 pipeline filtered by rep; the rep's own view): jobs and
-- estimates by current stage, pipeline value and Lead -> Sold conversion of the rep's jobs,
-- optionally those created in a date range.
SELECT stage, stage_order, count(*) AS jobs, sum(approved_estimate_total) AS estimate_value,
       sum(pipeline_value) AS pipeline_value, count(*) FILTER (WHERE is_won) AS sold,
       sum(count(*)) OVER () AS leads,
       round(sum(count(*) FILTER (WHERE is_won)) OVER () / nullif(sum(count(*)) OVER (), 0), 4)
           AS lead_to_sold_rate
FROM analytics.jobs_current
WHERE sales_rep_id = %(sales_rep_id)s
  AND (%(date_from)s::date IS NULL OR date_created >= %(date_from)s::date)
  AND (%(date_to)s::date IS NULL OR date_created < %(date_to)s::date + 1)
GROUP BY stage, stage_order
ORDER BY stage_order NULLS LAST, stage
