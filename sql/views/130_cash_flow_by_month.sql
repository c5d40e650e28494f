-- analytics.cash_flow_by_month: money in (revenue: analytics.revenue_by_month) and out (costs:
-- active, not archived work and material orders, not draft or cancelled material orders, not on
-- test jobs, by month of date_expense) per month in the account time zone; a month with only one
-- side shows 0 on the other.
DROP MATERIALIZED VIEW IF EXISTS analytics.cash_flow_by_month CASCADE;
CREATE MATERIALIZED VIEW analytics.cash_flow_by_month AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), cash_in AS (
    SELECT month, sum(revenue) AS amount
    FROM analytics.revenue_by_month
    GROUP BY month
), cash_out AS (
    SELECT date_trunc('month', e.date_expense AT TIME ZONE tz.name)::date AS month,
           sum(coalesce(e.amount, 0)) AS amount
    FROM expenses e
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = e.job_id
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE
      AND gcc_is_cost(e.source_entity, e.status_name)
      AND NOT coalesce(j.is_test, false) AND e.date_expense IS NOT NULL
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

COMMENT ON MATERIALIZED VIEW analytics.cash_flow_by_month IS
    'Money in (revenue) and out (costs) per month in the account time zone; a month with only one side shows 0 on the other.';
COMMENT ON COLUMN analytics.cash_flow_by_month.month IS 'First day of the month (account time zone).';
COMMENT ON COLUMN analytics.cash_flow_by_month.cash_in IS 'Revenue of the month (analytics.revenue_by_month), dollars.';
COMMENT ON COLUMN analytics.cash_flow_by_month.cash_out IS 'Costs by month of date_expense: active, not archived work and material orders, not draft or cancelled material orders, not on test jobs; dollars.';
COMMENT ON COLUMN analytics.cash_flow_by_month.net IS 'cash_in - cash_out, dollars.';
