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

COMMENT ON MATERIALIZED VIEW analytics.pipeline_by_stage IS
    'Live jobs (analytics.jobs_current) per job type, lead source, creation month and current stage: the funnel, pipeline value, Lead -> Sold conversion and days per stage, filterable without reading every job.';
COMMENT ON COLUMN analytics.pipeline_by_stage.record_type_name IS 'The jobs'' type (workflow); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.pipeline_by_stage.is_legacy IS 'The job type is Legacy (Bob''s Workflow).';
COMMENT ON COLUMN analytics.pipeline_by_stage.lead_source IS 'The job''s source, else its primary contact''s, else ''(unassigned)''.';
COMMENT ON COLUMN analytics.pipeline_by_stage.created_month IS 'First day of the month the jobs were created in (account time zone).';
COMMENT ON COLUMN analytics.pipeline_by_stage.stage IS 'The jobs'' current stage; ''(unmapped)'' for a status the mapping lacks.';
COMMENT ON COLUMN analytics.pipeline_by_stage.stage_order IS 'Funnel order: Lead 1 .. Completed 6, Lost 7, None 8; NULL when unmapped.';
COMMENT ON COLUMN analytics.pipeline_by_stage.job_count IS 'Live jobs in the group.';
COMMENT ON COLUMN analytics.pipeline_by_stage.estimate_value IS 'Sum of their approved estimates, dollars.';
COMMENT ON COLUMN analytics.pipeline_by_stage.pipeline_value IS 'Sum of jobs_current.pipeline_value (approved estimates of jobs in Estimating, Sold or In Production), dollars.';
COMMENT ON COLUMN analytics.pipeline_by_stage.won_count IS 'Jobs that reached Sold; sum(won_count) / sum(job_count) over a creation period = lead_to_sold_rate.';
COMMENT ON COLUMN analytics.pipeline_by_stage.open_count IS 'Jobs open: in Lead .. Accounts Receivable and not completed.';
COMMENT ON COLUMN analytics.pipeline_by_stage.days_in_lead IS 'Sum of jobs_current.days_in_lead (average days in Lead = sum(days_in_lead) / sum(left_lead)).';
COMMENT ON COLUMN analytics.pipeline_by_stage.left_lead IS 'Sum of jobs_current.left_lead: visits to Lead that ended.';
COMMENT ON COLUMN analytics.pipeline_by_stage.days_in_estimating IS 'Sum of jobs_current.days_in_estimating.';
COMMENT ON COLUMN analytics.pipeline_by_stage.left_estimating IS 'Sum of jobs_current.left_estimating: visits to Estimating that ended.';
COMMENT ON COLUMN analytics.pipeline_by_stage.days_in_sold IS 'Sum of jobs_current.days_in_sold.';
COMMENT ON COLUMN analytics.pipeline_by_stage.left_sold IS 'Sum of jobs_current.left_sold: visits to Sold that ended.';
COMMENT ON COLUMN analytics.pipeline_by_stage.days_in_production IS 'Sum of jobs_current.days_in_production.';
COMMENT ON COLUMN analytics.pipeline_by_stage.left_production IS 'Sum of jobs_current.left_production: visits to In Production that ended.';
COMMENT ON COLUMN analytics.pipeline_by_stage.days_in_receivable IS 'Sum of jobs_current.days_in_receivable.';
COMMENT ON COLUMN analytics.pipeline_by_stage.left_receivable IS 'Sum of jobs_current.left_receivable: visits to Accounts Receivable that ended.';
