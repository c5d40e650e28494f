-- analytics.revenue_daily: revenue per day (account time zone), job type and payment method:
-- the daily trend for any date range, filterable by job type (is_legacy) and method. Sums
-- analytics.revenue_payments (definitions there). The grain stops there so that a year of days
-- stays a few thousand rows at any company size: lead source is at month grain in
-- analytics.revenue_by_month, the rep in analytics.rep_monthly, single payments in
-- analytics.revenue_payments.
DROP MATERIALIZED VIEW IF EXISTS analytics.revenue_daily CASCADE;
CREATE MATERIALIZED VIEW analytics.revenue_daily AS
SELECT day, month, record_type_name, is_legacy, payment_method,
       count(*)::integer AS payment_count,
       sum(gross_amount)::numeric(14,2) AS gross_amount,
       sum(credit)::numeric(14,2) AS credit,
       sum(refunded_amount)::numeric(14,2) AS refunded_amount,
       sum(revenue)::numeric(14,2) AS revenue
FROM analytics.revenue_payments
GROUP BY day, month, record_type_name, is_legacy, payment_method
WITH DATA;
CREATE UNIQUE INDEX revenue_daily_key
    ON analytics.revenue_daily (day, record_type_name, is_legacy, payment_method);
