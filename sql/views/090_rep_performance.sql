-- analytics.rep_performance: each rep over all time (analytics.rep_monthly has it per month).
--   leads = live jobs of the rep; won = those that reached Sold; lost = in Lost, never sold
--   win_rate = won / (won + lost); lead_to_sold_rate = won / leads (a lead is a job here)
--   revenue = analytics.revenue_payments credited to the rep (the job's rep, else the payment's,
--             else '(unassigned)': the reps' revenue adds up to the total)
--   pipeline_value = approved estimates of the rep's jobs in Estimating, Sold or In Production
--   avg_job_value = mean approved estimate of the jobs won
DROP MATERIALIZED VIEW IF EXISTS analytics.rep_performance CASCADE;
CREATE MATERIALIZED VIEW analytics.rep_performance AS
WITH rev AS (
    SELECT sales_rep_id, sum(revenue) AS revenue
    FROM analytics.revenue_payments
    GROUP BY 1
), jobs AS (
    SELECT sales_rep_id,
           max(sales_rep_name) AS name_on_jobs,
           count(*) AS leads,
           count(*) FILTER (WHERE is_won) AS won,
           count(*) FILTER (WHERE is_lost) AS lost,
           sum(pipeline_value) AS pipeline_value,
           avg(coalesce(approved_estimate_total, 0)) FILTER (WHERE is_won) AS avg_job_value
    FROM analytics.jobs_current
    GROUP BY 1
), reps AS (
    SELECT sales_rep_id FROM rev UNION SELECT sales_rep_id FROM jobs
)
SELECT r.sales_rep_id,
       coalesce(sr.name, j.name_on_jobs, r.sales_rep_id) AS sales_rep_name,
       coalesce(j.leads, 0)::integer AS leads,
       coalesce(j.won, 0)::integer AS won,
       coalesce(j.lost, 0)::integer AS lost,
       round(j.won::numeric / nullif(j.won + j.lost, 0), 4) AS win_rate,
       round(j.won::numeric / nullif(j.leads, 0), 4) AS lead_to_sold_rate,
       coalesce(rev.revenue, 0)::numeric(14,2) AS revenue,
       coalesce(j.pipeline_value, 0)::numeric(14,2) AS pipeline_value,
       round(j.avg_job_value, 2) AS avg_job_value
FROM reps r
LEFT JOIN rev ON rev.sales_rep_id = r.sales_rep_id
LEFT JOIN jobs j ON j.sales_rep_id = r.sales_rep_id
LEFT JOIN sales_reps sr ON sr.id = r.sales_rep_id
WITH DATA;
CREATE UNIQUE INDEX rep_performance_key ON analytics.rep_performance (sales_rep_id);

COMMENT ON MATERIALIZED VIEW analytics.rep_performance IS
    'Each sales rep over all time: live jobs, won, lost, rates, revenue credited and current pipeline (analytics.rep_monthly has it per month).';
COMMENT ON COLUMN analytics.rep_performance.sales_rep_id IS 'The rep (sales_reps.id); ''(unassigned)'' for jobs and payments without one.';
COMMENT ON COLUMN analytics.rep_performance.sales_rep_name IS 'The rep''s name from account/users, else as seen on the jobs, else the id.';
COMMENT ON COLUMN analytics.rep_performance.leads IS 'Live jobs of the rep (a lead is a job here).';
COMMENT ON COLUMN analytics.rep_performance.won IS 'Of those, jobs that reached Sold or a later funnel stage.';
COMMENT ON COLUMN analytics.rep_performance.lost IS 'Of those, jobs in the Lost stage now and never sold.';
COMMENT ON COLUMN analytics.rep_performance.win_rate IS 'won / (won + lost) (4 decimals); NULL when no job was decided.';
COMMENT ON COLUMN analytics.rep_performance.lead_to_sold_rate IS 'won / leads (4 decimals); NULL without jobs.';
COMMENT ON COLUMN analytics.rep_performance.revenue IS 'All-time revenue (analytics.revenue_payments) credited to the rep: the job''s rep, else the payment''s; the reps'' revenue adds up to the total. Dollars.';
COMMENT ON COLUMN analytics.rep_performance.pipeline_value IS 'Current pipeline: approved estimates of the rep''s jobs in Estimating, Sold or In Production, dollars.';
COMMENT ON COLUMN analytics.rep_performance.avg_job_value IS 'Mean approved estimate of the jobs won, dollars; NULL without one.';
