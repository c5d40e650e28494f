-- analytics.revenue_by_month: revenue per month (account time zone), job type, payment method
-- and lead source: this month, last month, year to date, month over month, and the breakdowns
-- by job type, method and source for any range of months. Sums analytics.revenue_payments.
DROP MATERIALIZED VIEW IF EXISTS analytics.revenue_by_month CASCADE;
CREATE MATERIALIZED VIEW analytics.revenue_by_month AS
SELECT month, record_type_name, is_legacy, payment_method, lead_source,
       count(*)::integer AS payment_count,
       sum(gross_amount)::numeric(14,2) AS gross_amount,
       sum(credit)::numeric(14,2) AS credit,
       sum(refunded_amount)::numeric(14,2) AS refunded_amount,
       sum(revenue)::numeric(14,2) AS revenue
FROM analytics.revenue_payments
GROUP BY month, record_type_name, is_legacy, payment_method, lead_source
WITH DATA;
CREATE UNIQUE INDEX revenue_by_month_key
    ON analytics.revenue_by_month (month, record_type_name, is_legacy, payment_method, lead_source);
