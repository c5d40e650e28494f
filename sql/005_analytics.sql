-- Analytics: materialized views in schema `analytics` for the dashboards (names and columns are a
-- contract: add columns, never rename). Money in dollars; months in the account time zone, read
-- from gcc_settings so that changing the zone is a data change (upsert + refresh), not a migration.
--
-- Every view has a UNIQUE index on plain, never-NULL columns so that
-- `REFRESH MATERIALIZED VIEW CONCURRENTLY` works (readers keep seeing the old rows meanwhile);
-- grouping labels are coalesced ('(none)', '(unmapped)', '(unknown job)') for that reason.
--
-- Shared definitions, repeated inline in each view so that each can be replaced on its own later:
--   live job     = is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test AND NOT is_legacy
--   live payment = is_active IS NOT FALSE AND is_archived IS NOT TRUE, and its job (payments.job_id)
--                  is neither test nor legacy; a payment whose job is unknown (NULL job_id or not in
--                  jobs) still counts, under record_type_name '(unknown job)'. A payment on an
--                  inactive or archived (but real) job still counts as revenue: the money arrived.
--   live expense = is_active IS NOT FALSE AND is_archived IS NOT TRUE, job neither test nor legacy
--                  (or unknown).
--   payment time = date_payment, falling back to date_created when the API sent no payment date;
--                  a payment with neither is left out of the monthly views (it has no month).
--   month        = date_trunc('month', ts AT TIME ZONE <gcc_settings.timezone>)::date
-- Rates are numeric rounded to 4 decimals, days rounded to 2 decimals; NULL when undefined.

-- Account-level settings the SQL needs (the pipeline upserts them from its environment).
CREATE TABLE IF NOT EXISTS gcc_settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO gcc_settings (key, value) VALUES ('timezone', 'UTC') ON CONFLICT (key) DO NOTHING;

CREATE SCHEMA IF NOT EXISTS analytics;

-- Live payments' net_amount per month of payment (account time zone) and job record type.
CREATE MATERIALIZED VIEW analytics.revenue_by_month AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), live_payments AS (
    SELECT p.net_amount,
           coalesce(p.date_payment, p.date_created) AS paid_at,
           CASE WHEN j.id IS NULL THEN '(unknown job)'
                ELSE coalesce(j.record_type_name, '(none)') END AS record_type_name
    FROM payments p
    LEFT JOIN jobs j ON j.id = p.job_id
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
      AND NOT coalesce(j.is_test, false) AND NOT coalesce(j.is_legacy, false)
)
SELECT date_trunc('month', lp.paid_at AT TIME ZONE tz.name)::date AS month,
       lp.record_type_name,
       coalesce(sum(lp.net_amount), 0)::numeric(14,2) AS revenue,
       count(*)::integer AS payment_count
FROM live_payments lp
CROSS JOIN tz
WHERE lp.paid_at IS NOT NULL
GROUP BY 1, 2
WITH DATA;
CREATE UNIQUE INDEX revenue_by_month_key ON analytics.revenue_by_month (month, record_type_name);

-- Live jobs by current stage; a status the mapping lacks shows as stage '(unmapped)'
-- (stage_order NULL). estimate_value = sum of approved_estimate_total.
CREATE MATERIALIZED VIEW analytics.pipeline_by_stage AS
SELECT coalesce(j.record_type_name, '(none)') AS record_type_name,
       coalesce(j.stage, '(unmapped)') AS stage,
       gcc_stage_order(j.stage) AS stage_order,
       count(*)::integer AS job_count,
       coalesce(sum(j.approved_estimate_total), 0)::numeric(14,2) AS estimate_value
FROM jobs j
WHERE j.is_active IS NOT FALSE AND j.is_archived IS NOT TRUE AND NOT j.is_test AND NOT j.is_legacy
GROUP BY 1, 2, 3
WITH DATA;
CREATE UNIQUE INDEX pipeline_by_stage_key ON analytics.pipeline_by_stage (record_type_name, stage);

-- Time between stage entries, from job_status_history of live jobs. History rows without a stage
-- are skipped; consecutive rows of the same stage (ordered by changed_at, then id) collapse into
-- one stage entry; each pair of consecutive entries is one transition from_stage -> to_stage,
-- and its days are the difference of the two entry times. Backward moves count too.
CREATE MATERIALIZED VIEW analytics.stage_velocity AS
WITH live_jobs AS (
    SELECT id, coalesce(record_type_name, '(none)') AS record_type_name
    FROM jobs
    WHERE is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test AND NOT is_legacy
), staged AS (
    SELECT h.job_id, h.stage, h.changed_at,
           lag(h.stage) OVER (PARTITION BY h.job_id ORDER BY h.changed_at, h.id) AS prev_stage,
           h.id
    FROM job_status_history h
    JOIN live_jobs lj ON lj.id = h.job_id
    WHERE h.stage IS NOT NULL
), entries AS (
    SELECT job_id, stage, changed_at,
           lead(stage) OVER w AS next_stage,
           lead(changed_at) OVER w AS next_at
    FROM staged
    WHERE prev_stage IS DISTINCT FROM stage
    WINDOW w AS (PARTITION BY job_id ORDER BY changed_at, id)
), transitions AS (
    SELECT e.job_id, e.stage AS from_stage, e.next_stage AS to_stage,
           extract(epoch FROM e.next_at - e.changed_at) / 86400.0 AS days
    FROM entries e
    WHERE e.next_stage IS NOT NULL
)
SELECT lj.record_type_name,
       t.from_stage,
       t.to_stage,
       gcc_stage_order(t.from_stage) AS from_stage_order,
       gcc_stage_order(t.to_stage) AS to_stage_order,
       count(*)::integer AS transitions,
       round(avg(t.days), 2) AS avg_days,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t.days))::numeric, 2) AS median_days
FROM transitions t
JOIN live_jobs lj ON lj.id = t.job_id
GROUP BY 1, 2, 3
WITH DATA;
CREATE UNIQUE INDEX stage_velocity_key ON analytics.stage_velocity (record_type_name, from_stage, to_stage);

-- Funnel conversion per record type, from job_status_history of live jobs.
-- For each funnel stage Lead..Completed (orders 1-6): reached = live jobs whose history ever
-- entered this stage or a later funnel stage (order >= this, <= 6; Lost and None never count);
-- converted_to_next = those that entered a funnel stage of order >= this + 1.
-- Completed is included as the funnel's last bar: converted_to_next 0 and conversion_rate NULL
-- (there is no next stage, so no rate), so Lead..Accounts Receivable are the rates to read.
-- Every (record type of a live job, funnel stage) pair has a row, with zeros where none reached.
CREATE MATERIALIZED VIEW analytics.stage_conversion AS
WITH live_jobs AS (
    SELECT id, coalesce(record_type_name, '(none)') AS record_type_name
    FROM jobs
    WHERE is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test AND NOT is_legacy
), furthest AS (
    SELECT lj.record_type_name, lj.id,
           max(gcc_stage_order(h.stage)) FILTER (WHERE gcc_stage_order(h.stage) BETWEEN 1 AND 6)
               AS max_order
    FROM live_jobs lj
    LEFT JOIN job_status_history h ON h.job_id = lj.id
    GROUP BY 1, 2
), funnel(stage, stage_order) AS (
    VALUES ('Lead', 1), ('Estimating', 2), ('Sold', 3), ('In Production', 4),
           ('Accounts Receivable', 5), ('Completed', 6)
), counts AS (
    SELECT rt.record_type_name, f.stage, f.stage_order,
           count(fu.id) FILTER (WHERE fu.max_order >= f.stage_order)::integer AS reached,
           CASE WHEN f.stage_order < 6
                THEN count(fu.id) FILTER (WHERE fu.max_order >= f.stage_order + 1)
                ELSE 0 END::integer AS converted_to_next
    FROM (SELECT DISTINCT record_type_name FROM live_jobs) rt
    CROSS JOIN funnel f
    LEFT JOIN furthest fu ON fu.record_type_name = rt.record_type_name
    GROUP BY 1, 2, 3
)
SELECT record_type_name, stage, stage_order, reached, converted_to_next,
       CASE WHEN stage_order < 6
            THEN round(converted_to_next::numeric / nullif(reached, 0), 4) END AS conversion_rate
FROM counts
WITH DATA;
CREATE UNIQUE INDEX stage_conversion_key ON analytics.stage_conversion (record_type_name, stage);

-- Per sales rep of live jobs (jobs.sales_rep_id, '(none)' when NULL): name from sales_reps,
-- else the rep name most recently seen on the jobs. won = is_won (Sold..Completed), lost = is_lost;
-- conversion_rate = won / (won + lost); revenue = live payments' net on these jobs;
-- pipeline_value = approved estimates of live jobs neither won nor lost.
CREATE MATERIALIZED VIEW analytics.rep_performance AS
WITH live_jobs AS (
    SELECT id, coalesce(sales_rep_id, '(none)') AS sales_rep_id, sales_rep_name, date_updated,
           is_won, is_lost, approved_estimate_total
    FROM jobs
    WHERE is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test AND NOT is_legacy
), job_revenue AS (
    SELECT p.job_id, sum(p.net_amount) AS revenue
    FROM payments p
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
    GROUP BY p.job_id
), per_rep AS (
    SELECT lj.sales_rep_id,
           (array_agg(lj.sales_rep_name ORDER BY lj.date_updated DESC NULLS LAST)
                FILTER (WHERE lj.sales_rep_name IS NOT NULL))[1] AS name_on_jobs,
           count(*)::integer AS leads,
           count(*) FILTER (WHERE lj.is_won)::integer AS won,
           count(*) FILTER (WHERE lj.is_lost)::integer AS lost,
           coalesce(sum(r.revenue), 0)::numeric(14,2) AS revenue,
           coalesce(sum(lj.approved_estimate_total) FILTER (WHERE NOT lj.is_won AND NOT lj.is_lost),
                    0)::numeric(14,2) AS pipeline_value
    FROM live_jobs lj
    LEFT JOIN job_revenue r ON r.job_id = lj.id
    GROUP BY lj.sales_rep_id
)
SELECT pr.sales_rep_id,
       coalesce(sr.name, pr.name_on_jobs,
                CASE WHEN pr.sales_rep_id = '(none)' THEN '(none)' END) AS sales_rep_name,
       pr.leads, pr.won, pr.lost,
       round(pr.won::numeric / nullif(pr.won + pr.lost, 0), 4) AS conversion_rate,
       pr.revenue, pr.pipeline_value
FROM per_rep pr
LEFT JOIN sales_reps sr ON sr.id = pr.sales_rep_id
WITH DATA;
CREATE UNIQUE INDEX rep_performance_key ON analytics.rep_performance (sales_rep_id);

-- Per lead source of live jobs: coalesce(jobs.source_name, the primary contact's lead_source,
-- '(none)'). conversion_rate = won / leads; revenue = live payments' net on these jobs;
-- avg_days_to_sale = mean days from date_created to date_sold over won jobs that have both.
CREATE MATERIALIZED VIEW analytics.lead_source_performance AS
WITH live_jobs AS (
    SELECT j.id, coalesce(j.source_name, c.lead_source, '(none)') AS lead_source, j.is_won,
           j.date_created, j.date_sold
    FROM jobs j
    LEFT JOIN contacts c ON c.id = j.primary_contact_id
    WHERE j.is_active IS NOT FALSE AND j.is_archived IS NOT TRUE AND NOT j.is_test
      AND NOT j.is_legacy
), job_revenue AS (
    SELECT p.job_id, sum(p.net_amount) AS revenue
    FROM payments p
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
    GROUP BY p.job_id
), per_source AS (
    SELECT lj.lead_source,
           count(*)::integer AS leads,
           count(*) FILTER (WHERE lj.is_won)::integer AS won,
           coalesce(sum(r.revenue), 0)::numeric(14,2) AS revenue,
           avg(extract(epoch FROM lj.date_sold - lj.date_created) / 86400.0)
               FILTER (WHERE lj.is_won) AS avg_days_to_sale
    FROM live_jobs lj
    LEFT JOIN job_revenue r ON r.job_id = lj.id
    GROUP BY lj.lead_source
)
SELECT lead_source, leads, won,
       round(won::numeric / nullif(leads, 0), 4) AS conversion_rate,
       revenue,
       round(avg_days_to_sale, 2) AS avg_days_to_sale
FROM per_source
WITH DATA;
CREATE UNIQUE INDEX lead_source_performance_key ON analytics.lead_source_performance (lead_source);

-- Per live job: revenue = live payments' net, expenses = active, non-archived expenses,
-- gross_profit = revenue - expenses, gross_margin = gross_profit / revenue (NULL without revenue).
CREATE MATERIALIZED VIEW analytics.job_profitability AS
WITH live_jobs AS (
    SELECT id, coalesce(record_type_name, '(none)') AS record_type_name
    FROM jobs
    WHERE is_active IS NOT FALSE AND is_archived IS NOT TRUE AND NOT is_test AND NOT is_legacy
), job_revenue AS (
    SELECT p.job_id, sum(p.net_amount) AS revenue
    FROM payments p
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
    GROUP BY p.job_id
), job_expenses AS (
    SELECT e.job_id, sum(e.amount) AS expenses
    FROM expenses e
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE
    GROUP BY e.job_id
), totals AS (
    SELECT lj.id AS job_id, lj.record_type_name,
           coalesce(r.revenue, 0)::numeric(14,2) AS revenue,
           coalesce(x.expenses, 0)::numeric(14,2) AS expenses
    FROM live_jobs lj
    LEFT JOIN job_revenue r ON r.job_id = lj.id
    LEFT JOIN job_expenses x ON x.job_id = lj.id
)
SELECT job_id, record_type_name, revenue, expenses,
       (revenue - expenses)::numeric(14,2) AS gross_profit,
       round((revenue - expenses) / nullif(revenue, 0), 4) AS gross_margin
FROM totals
WITH DATA;
CREATE UNIQUE INDEX job_profitability_key ON analytics.job_profitability (job_id);

-- Money in (live payments' net by payment month) and out (live expenses by month of
-- date_expense), account time zone; months with only one side show 0 on the other.
CREATE MATERIALIZED VIEW analytics.cash_flow_by_month AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), cash_in AS (
    SELECT date_trunc('month', coalesce(p.date_payment, p.date_created) AT TIME ZONE tz.name)::date
               AS month,
           sum(p.net_amount) AS amount
    FROM payments p
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = p.job_id
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
      AND NOT coalesce(j.is_test, false) AND NOT coalesce(j.is_legacy, false)
      AND coalesce(p.date_payment, p.date_created) IS NOT NULL
    GROUP BY 1
), cash_out AS (
    SELECT date_trunc('month', e.date_expense AT TIME ZONE tz.name)::date AS month,
           sum(e.amount) AS amount
    FROM expenses e
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = e.job_id
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE
      AND NOT coalesce(j.is_test, false) AND NOT coalesce(j.is_legacy, false)
      AND e.date_expense IS NOT NULL
    GROUP BY 1
)
SELECT coalesce(i.month, o.month) AS month,
       coalesce(i.amount, 0)::numeric(14,2) AS cash_in,
       coalesce(o.amount, 0)::numeric(14,2) AS cash_out,
       (coalesce(i.amount, 0) - coalesce(o.amount, 0))::numeric(14,2) AS net
FROM cash_in i
FULL OUTER JOIN cash_out o ON o.month = i.month
WITH DATA;
CREATE UNIQUE INDEX cash_flow_by_month_key ON analytics.cash_flow_by_month (month);
