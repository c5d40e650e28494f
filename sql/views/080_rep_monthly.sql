-- analytics.rep_monthly: the rep leaderboard for any month, one row per (month, rep) for every
-- rep with a job or a payment and every month from the first activity to the current month
-- (account time zone), zeros included, so the change against the previous month is a column.
--   revenue, payment_count = analytics.revenue_payments of the month credited to the rep (the
--                 job's rep, else the payment's; '(unassigned)' when neither)
--   leads       = live jobs created in the month; jobs_won = jobs sold (date_sold) in the month;
--                 jobs_lost = jobs lost (date_lost, never sold) in the month
--   win_rate    = jobs_won / (jobs_won + jobs_lost); avg_job_value = won_value / jobs_won, the
--                 mean approved estimate of the jobs won; avg_days_to_close over jobs won
--   pipeline_value = the rep's current pipeline (approved estimates in Estimating, Sold, In
--                 Production), as of the refresh, the same on every month of the rep
--   *_prev_month, *_change, revenue_change_pct = against the rep's previous month
DROP MATERIALIZED VIEW IF EXISTS analytics.rep_monthly CASCADE;
CREATE MATERIALIZED VIEW analytics.rep_monthly AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), rev AS (
    SELECT month, sales_rep_id, sum(revenue) AS revenue, count(*) AS payment_count
    FROM analytics.revenue_payments
    GROUP BY 1, 2
), created AS (
    SELECT created_month AS month, sales_rep_id, count(*) AS leads
    FROM analytics.jobs_current
    WHERE created_month IS NOT NULL
    GROUP BY 1, 2
), won AS (
    SELECT sold_month AS month, sales_rep_id, count(*) AS jobs_won,
           sum(coalesce(approved_estimate_total, 0)) AS won_value,
           sum(days_to_close) AS days_to_close_total,
           count(days_to_close) AS jobs_won_dated
    FROM analytics.jobs_current
    WHERE is_won
    GROUP BY 1, 2
), lost AS (
    SELECT date_trunc('month', j.date_lost AT TIME ZONE tz.name)::date AS month, j.sales_rep_id,
           count(*) AS jobs_lost
    FROM analytics.jobs_current j
    CROSS JOIN tz
    WHERE j.is_lost AND j.date_lost IS NOT NULL
    GROUP BY 1, 2
), pipe AS (
    SELECT sales_rep_id, sum(pipeline_value) AS pipeline_value,
           max(sales_rep_name) AS name_on_jobs
    FROM analytics.jobs_current
    GROUP BY 1
), reps AS (
    SELECT sales_rep_id FROM rev UNION SELECT sales_rep_id FROM pipe
), bounds AS (
    SELECT min(month) AS first_month, max(month) AS last_month
    FROM (SELECT month FROM rev UNION ALL SELECT month FROM created
          UNION ALL SELECT month FROM won UNION ALL SELECT month FROM lost) m
), months AS (
    SELECT generate_series(b.first_month,
                           greatest(b.last_month, date_trunc('month', now() AT TIME ZONE tz.name)::date),
                           interval '1 month')::date AS month
    FROM bounds b
    CROSS JOIN tz
    WHERE b.first_month IS NOT NULL
), filled AS (
    SELECT m.month, r.sales_rep_id,
           coalesce(rev.revenue, 0)::numeric(14,2) AS revenue,
           coalesce(rev.payment_count, 0)::integer AS payment_count,
           coalesce(c.leads, 0)::integer AS leads,
           coalesce(w.jobs_won, 0)::integer AS jobs_won,
           coalesce(l.jobs_lost, 0)::integer AS jobs_lost,
           coalesce(w.won_value, 0)::numeric(14,2) AS won_value,
           w.days_to_close_total, w.jobs_won_dated
    FROM months m
    CROSS JOIN reps r
    LEFT JOIN rev ON rev.month = m.month AND rev.sales_rep_id = r.sales_rep_id
    LEFT JOIN created c ON c.month = m.month AND c.sales_rep_id = r.sales_rep_id
    LEFT JOIN won w ON w.month = m.month AND w.sales_rep_id = r.sales_rep_id
    LEFT JOIN lost l ON l.month = m.month AND l.sales_rep_id = r.sales_rep_id
)
SELECT f.month,
       f.sales_rep_id,
       coalesce(sr.name, p.name_on_jobs, f.sales_rep_id) AS sales_rep_name,
       f.revenue,
       f.payment_count,
       f.leads,
       f.jobs_won,
       f.jobs_lost,
       round(f.jobs_won::numeric / nullif(f.jobs_won + f.jobs_lost, 0), 4) AS win_rate,
       f.won_value,
       round(f.won_value / nullif(f.jobs_won, 0), 2) AS avg_job_value,
       round(f.days_to_close_total / nullif(f.jobs_won_dated, 0), 2) AS avg_days_to_close,
       coalesce(p.pipeline_value, 0)::numeric(14,2) AS pipeline_value,
       lag(f.revenue, 1, 0::numeric(14,2)) OVER w AS revenue_prev_month,
       (f.revenue - lag(f.revenue, 1, 0::numeric(14,2)) OVER w)::numeric(14,2) AS revenue_change,
       round(100 * (f.revenue - lag(f.revenue) OVER w) / nullif(lag(f.revenue) OVER w, 0), 1)
           AS revenue_change_pct,
       lag(f.jobs_won, 1, 0) OVER w AS jobs_won_prev_month,
       f.jobs_won - lag(f.jobs_won, 1, 0) OVER w AS jobs_won_change,
       round((lag(f.jobs_won) OVER w)::numeric
             / nullif(lag(f.jobs_won) OVER w + lag(f.jobs_lost) OVER w, 0), 4)
           AS win_rate_prev_month
FROM filled f
LEFT JOIN pipe p ON p.sales_rep_id = f.sales_rep_id
LEFT JOIN sales_reps sr ON sr.id = f.sales_rep_id
WINDOW w AS (PARTITION BY f.sales_rep_id ORDER BY f.month)
WITH DATA;
CREATE UNIQUE INDEX rep_monthly_key ON analytics.rep_monthly (month, sales_rep_id);
CREATE INDEX rep_monthly_rep_idx ON analytics.rep_monthly (sales_rep_id, month);

COMMENT ON MATERIALIZED VIEW analytics.rep_monthly IS
    'The rep leaderboard for any month: one row per (month, rep) for every rep with a job or a payment and every month from the first activity to the current month (account time zone), zeros included, with the change against the rep''s previous month.';
COMMENT ON COLUMN analytics.rep_monthly.month IS 'First day of the month (account time zone).';
COMMENT ON COLUMN analytics.rep_monthly.sales_rep_id IS 'The rep credited: the job''s rep, else the payment''s; ''(unassigned)'' when neither.';
COMMENT ON COLUMN analytics.rep_monthly.sales_rep_name IS 'The rep''s name from account/users, else as seen on the jobs, else the id.';
COMMENT ON COLUMN analytics.rep_monthly.revenue IS 'Revenue (analytics.revenue_payments) of the month credited to the rep, dollars.';
COMMENT ON COLUMN analytics.rep_monthly.payment_count IS 'Payments behind that revenue.';
COMMENT ON COLUMN analytics.rep_monthly.leads IS 'Live jobs of the rep created in the month.';
COMMENT ON COLUMN analytics.rep_monthly.jobs_won IS 'Jobs of the rep sold (date_sold) in the month.';
COMMENT ON COLUMN analytics.rep_monthly.jobs_lost IS 'Jobs of the rep lost (date_lost, never sold) in the month.';
COMMENT ON COLUMN analytics.rep_monthly.win_rate IS 'jobs_won / (jobs_won + jobs_lost) (4 decimals); NULL when no job was decided.';
COMMENT ON COLUMN analytics.rep_monthly.won_value IS 'Approved estimates of the jobs won in the month, dollars.';
COMMENT ON COLUMN analytics.rep_monthly.avg_job_value IS 'won_value / jobs_won, dollars; NULL without a job won.';
COMMENT ON COLUMN analytics.rep_monthly.avg_days_to_close IS 'Mean days from creation to Sold of the jobs won in the month (2 decimals); NULL without one.';
COMMENT ON COLUMN analytics.rep_monthly.pipeline_value IS 'The rep''s current pipeline value (approved estimates in Estimating, Sold, In Production) as of the refresh, the same on every month; dollars.';
COMMENT ON COLUMN analytics.rep_monthly.revenue_prev_month IS 'The rep''s revenue the month before, dollars (0 before the first month).';
COMMENT ON COLUMN analytics.rep_monthly.revenue_change IS 'revenue - revenue_prev_month, dollars.';
COMMENT ON COLUMN analytics.rep_monthly.revenue_change_pct IS 'revenue_change as a percent of the previous month''s revenue (1 decimal); NULL when that was 0 or there was no previous month.';
COMMENT ON COLUMN analytics.rep_monthly.jobs_won_prev_month IS 'Jobs the rep won the month before (0 before the first month).';
COMMENT ON COLUMN analytics.rep_monthly.jobs_won_change IS 'jobs_won - jobs_won_prev_month.';
COMMENT ON COLUMN analytics.rep_monthly.win_rate_prev_month IS 'The rep''s win_rate the month before; NULL when no job was decided then.';
