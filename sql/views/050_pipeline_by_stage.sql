-- analytics.pipeline_by_stage: live jobs (analytics.jobs_current) per job type, lead source,
-- month of creation and current stage: the funnel (jobs by stage), pipeline value, Lead -> Sold
-- conversion and average days per stage, filterable by job type, source and creation date
-- without reading every job. (A rep filter reads analytics.jobs_current by its rep index.)
--   job_count, estimate_value = jobs and their approved estimates in the stage
--   pipeline_value = approved estimates of jobs in Estimating, Sold or In Production
--   won_count      = of these jobs, those that reached Sold (lead_to_sold_rate = sum(won_count)
--                    / sum(job_count) over the jobs created in a period)
--   open_count     = jobs in Lead .. Accounts Receivable, not completed
--   days_in_<stage>, left_<stage> = sums of jobs_current's: average days in a stage =
--                    sum(days_in_<stage>) / sum(left_<stage>)
DROP MATERIALIZED VIEW IF EXISTS analytics.pipeline_by_stage CASCADE;
CREATE MATERIALIZED VIEW analytics.pipeline_by_stage AS
SELECT record_type_name, is_legacy, lead_source, created_month, stage, stage_order,
       count(*)::integer AS job_count,
       coalesce(sum(approved_estimate_total), 0)::numeric(14,2) AS estimate_value,
       sum(pipeline_value)::numeric(14,2) AS pipeline_value,
       count(*) FILTER (WHERE is_won)::integer AS won_count,
       count(*) FILTER (WHERE is_open)::integer AS open_count,
       sum(days_in_lead) AS days_in_lead, sum(left_lead)::integer AS left_lead,
       sum(days_in_estimating) AS days_in_estimating,
       sum(left_estimating)::integer AS left_estimating,
       sum(days_in_sold) AS days_in_sold, sum(left_sold)::integer AS left_sold,
       sum(days_in_production) AS days_in_production,
       sum(left_production)::integer AS left_production,
       sum(days_in_receivable) AS days_in_receivable,
       sum(left_receivable)::integer AS left_receivable
FROM analytics.jobs_current
GROUP BY record_type_name, is_legacy, lead_source, created_month, stage, stage_order
WITH DATA;
CREATE UNIQUE INDEX pipeline_by_stage_key
    ON analytics.pipeline_by_stage (record_type_name, is_legacy, lead_source, created_month, stage);
CREATE INDEX pipeline_by_stage_created_idx ON analytics.pipeline_by_stage (created_month);
