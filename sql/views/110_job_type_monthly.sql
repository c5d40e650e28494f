-- analytics.job_type_monthly: job type analysis for any range of months, one row per (month,
-- job type) with additive measures (sum them over a range, then divide) and the month's ratios.
--   revenue, payment_count = analytics.revenue_payments of the month on jobs of the type
--   leads      = live jobs of the type created in the month
--   jobs_won   = jobs sold (date_sold) in the month; won_value = their approved estimates;
--                days_to_close_total = their days from creation to Sold
--   jobs_lost  = jobs lost (date_lost, never sold) in the month
--   costs      = work and material orders dated (date_expense) in the month on jobs of the type
--                (active, not archived, not draft or cancelled material orders)
--   win_rate = jobs_won / (jobs_won + jobs_lost); avg_job_value = won_value / jobs_won;
--   avg_days_to_close = days_to_close_total / jobs_won; gross_margin = (revenue - costs) / revenue
--   (cash basis: the month's money in against the month's costs)
DROP MATERIALIZED VIEW IF EXISTS analytics.job_type_monthly CASCADE;
CREATE MATERIALIZED VIEW analytics.job_type_monthly AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), rev AS (
    SELECT month, record_type_name, is_legacy, sum(revenue) AS revenue,
           sum(payment_count) AS payment_count
    FROM analytics.revenue_by_month
    GROUP BY 1, 2, 3
), created AS (
    SELECT created_month AS month, record_type_name, is_legacy, count(*) AS leads
    FROM analytics.jobs_current
    WHERE created_month IS NOT NULL
    GROUP BY 1, 2, 3
), won AS (
    SELECT sold_month AS month, record_type_name, is_legacy, count(*) AS jobs_won,
           sum(coalesce(approved_estimate_total, 0)) AS won_value,
           sum(days_to_close) AS days_to_close_total,
           count(days_to_close) AS jobs_won_dated
    FROM analytics.jobs_current
    WHERE is_won
    GROUP BY 1, 2, 3
), lost AS (
    SELECT date_trunc('month', j.date_lost AT TIME ZONE tz.name)::date AS month,
           j.record_type_name, j.is_legacy, count(*) AS jobs_lost
    FROM analytics.jobs_current j
    CROSS JOIN tz
    WHERE j.is_lost AND j.date_lost IS NOT NULL
    GROUP BY 1, 2, 3
), cost AS (
    SELECT date_trunc('month', e.date_expense AT TIME ZONE tz.name)::date AS month,
           coalesce(j.record_type_name, '(unassigned)') AS record_type_name,
           coalesce(j.is_legacy, false) AS is_legacy,
           sum(coalesce(e.amount, 0)) AS costs
    FROM expenses e
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = e.job_id
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE
      AND gcc_is_cost(e.source_entity, e.status_name)
      AND NOT coalesce(j.is_test, false) AND e.date_expense IS NOT NULL
    GROUP BY 1, 2, 3
), keys AS (
    SELECT month, record_type_name, is_legacy FROM rev
    UNION SELECT month, record_type_name, is_legacy FROM created
    UNION SELECT month, record_type_name, is_legacy FROM won
    UNION SELECT month, record_type_name, is_legacy FROM lost
    UNION SELECT month, record_type_name, is_legacy FROM cost
)
SELECT k.month, k.record_type_name, k.is_legacy,
       coalesce(rev.revenue, 0)::numeric(14,2) AS revenue,
       coalesce(rev.payment_count, 0)::integer AS payment_count,
       coalesce(c.leads, 0)::integer AS leads,
       coalesce(w.jobs_won, 0)::integer AS jobs_won,
       coalesce(w.won_value, 0)::numeric(14,2) AS won_value,
       coalesce(w.days_to_close_total, 0) AS days_to_close_total,
       coalesce(w.jobs_won_dated, 0)::integer AS jobs_won_dated,
       coalesce(l.jobs_lost, 0)::integer AS jobs_lost,
       coalesce(x.costs, 0)::numeric(14,2) AS costs,
       (coalesce(rev.revenue, 0) - coalesce(x.costs, 0))::numeric(14,2) AS gross_profit,
       round(w.jobs_won::numeric / nullif(coalesce(w.jobs_won, 0) + coalesce(l.jobs_lost, 0), 0), 4)
           AS win_rate,
       round(w.won_value / nullif(w.jobs_won, 0), 2) AS avg_job_value,
       round(w.days_to_close_total / nullif(w.jobs_won_dated, 0), 2) AS avg_days_to_close,
       round((coalesce(rev.revenue, 0) - coalesce(x.costs, 0)) / nullif(rev.revenue, 0), 4)
           AS gross_margin
FROM keys k
LEFT JOIN rev ON (rev.month, rev.record_type_name, rev.is_legacy)
               = (k.month, k.record_type_name, k.is_legacy)
LEFT JOIN created c ON (c.month, c.record_type_name, c.is_legacy)
                     = (k.month, k.record_type_name, k.is_legacy)
LEFT JOIN won w ON (w.month, w.record_type_name, w.is_legacy)
                 = (k.month, k.record_type_name, k.is_legacy)
LEFT JOIN lost l ON (l.month, l.record_type_name, l.is_legacy)
                  = (k.month, k.record_type_name, k.is_legacy)
LEFT JOIN cost x ON (x.month, x.record_type_name, x.is_legacy)
                  = (k.month, k.record_type_name, k.is_legacy)
WITH DATA;
CREATE UNIQUE INDEX job_type_monthly_key
    ON analytics.job_type_monthly (month, record_type_name, is_legacy);

COMMENT ON MATERIALIZED VIEW analytics.job_type_monthly IS
    'Job type analysis for any range of months: one row per (month, job type) with additive measures (sum them over a range, then divide) and the month''s own ratios. Cash basis: the month''s revenue against the month''s costs.';
COMMENT ON COLUMN analytics.job_type_monthly.month IS 'First day of the month (account time zone).';
COMMENT ON COLUMN analytics.job_type_monthly.record_type_name IS 'The job type (workflow); ''(unassigned)'' for payments and costs without a known job.';
COMMENT ON COLUMN analytics.job_type_monthly.is_legacy IS 'The job type is Legacy (Bob''s Workflow).';
COMMENT ON COLUMN analytics.job_type_monthly.revenue IS 'Revenue (analytics.revenue_payments) of the month on jobs of the type, dollars.';
COMMENT ON COLUMN analytics.job_type_monthly.payment_count IS 'Payments behind that revenue.';
COMMENT ON COLUMN analytics.job_type_monthly.leads IS 'Live jobs of the type created in the month.';
COMMENT ON COLUMN analytics.job_type_monthly.jobs_won IS 'Jobs of the type sold (date_sold) in the month.';
COMMENT ON COLUMN analytics.job_type_monthly.won_value IS 'Approved estimates of the jobs won in the month, dollars.';
COMMENT ON COLUMN analytics.job_type_monthly.days_to_close_total IS 'Sum of days from creation to Sold of the jobs won in the month (average over a range = sum of this / sum of jobs_won_dated).';
COMMENT ON COLUMN analytics.job_type_monthly.jobs_won_dated IS 'Jobs won in the month that have both dates (the divisor of days_to_close_total).';
COMMENT ON COLUMN analytics.job_type_monthly.jobs_lost IS 'Jobs of the type lost (date_lost, never sold) in the month.';
COMMENT ON COLUMN analytics.job_type_monthly.costs IS 'Work and material orders dated (date_expense) in the month on jobs of the type: active, not archived, not draft or cancelled material orders, not on test jobs; dollars.';
COMMENT ON COLUMN analytics.job_type_monthly.gross_profit IS 'revenue - costs, dollars.';
COMMENT ON COLUMN analytics.job_type_monthly.win_rate IS 'jobs_won / (jobs_won + jobs_lost) (4 decimals); NULL when no job was decided. Over a range divide the sums.';
COMMENT ON COLUMN analytics.job_type_monthly.avg_job_value IS 'won_value / jobs_won, dollars; NULL without a job won.';
COMMENT ON COLUMN analytics.job_type_monthly.avg_days_to_close IS 'days_to_close_total / jobs_won_dated (2 decimals); NULL without one.';
COMMENT ON COLUMN analytics.job_type_monthly.gross_margin IS '(revenue - costs) / revenue as a fraction (4 decimals); NULL without revenue.';
