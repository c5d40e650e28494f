-- analytics.revenue_daily: revenue per day (account time zone), job type, payment method and
-- lead source: the daily trend for any date range, filterable by those columns. Sums
-- analytics.revenue_payments (definitions there); the rep is at month grain in
-- analytics.rep_monthly (a rep column here would make this fact as large as the payments).
DROP MATERIALIZED VIEW IF EXISTS analytics.revenue_daily CASCADE;
CREATE MATERIALIZED VIEW analytics.revenue_daily AS
SELECT day, month, record_type_name, is_legacy, payment_method, lead_source,
       count(*)::integer AS payment_count,
       sum(gross_amount)::numeric(14,2) AS gross_amount,
       sum(credit)::numeric(14,2) AS credit,
       sum(refunded_amount)::numeric(14,2) AS refunded_amount,
       sum(revenue)::numeric(14,2) AS revenue
FROM analytics.revenue_payments
GROUP BY day, month, record_type_name, is_legacy, payment_method, lead_source
WITH DATA;
CREATE UNIQUE INDEX revenue_daily_key
    ON analytics.revenue_daily (day, record_type_name, is_legacy, payment_method, lead_source);
