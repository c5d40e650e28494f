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

COMMENT ON MATERIALIZED VIEW analytics.revenue_daily IS
    'Revenue per day (account time zone), job type and payment method, summed from analytics.revenue_payments: the daily trend for any date range. Lead source is at month grain (revenue_by_month), the rep in rep_monthly.';
COMMENT ON COLUMN analytics.revenue_daily.day IS 'Day of the payments (date_payment, else date_created) in the account time zone.';
COMMENT ON COLUMN analytics.revenue_daily.month IS 'First day of the day''s month.';
COMMENT ON COLUMN analytics.revenue_daily.record_type_name IS 'The payments'' job type; ''(unassigned)'' for payments without a known job.';
COMMENT ON COLUMN analytics.revenue_daily.is_legacy IS 'The job type is Legacy (Bob''s Workflow): filter on it to leave legacy out.';
COMMENT ON COLUMN analytics.revenue_daily.payment_method IS 'Check, Credit Card, ''method N'', else ''(unassigned)''.';
COMMENT ON COLUMN analytics.revenue_daily.payment_count IS 'Payments that count as revenue in the group.';
COMMENT ON COLUMN analytics.revenue_daily.gross_amount IS 'Sum of the payments'' totals, dollars.';
COMMENT ON COLUMN analytics.revenue_daily.credit IS 'Sum of credits, dollars.';
COMMENT ON COLUMN analytics.revenue_daily.refunded_amount IS 'Sum of refunded amounts, dollars.';
COMMENT ON COLUMN analytics.revenue_daily.revenue IS 'gross_amount - credit - refunded_amount, dollars (see analytics.revenue_payments).';
