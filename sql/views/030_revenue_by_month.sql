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

COMMENT ON MATERIALIZED VIEW analytics.revenue_by_month IS
    'Revenue per month (account time zone), job type, payment method and lead source, summed from analytics.revenue_payments: this month, last month, year to date, month over month and every breakdown over a range of months.';
COMMENT ON COLUMN analytics.revenue_by_month.month IS 'First day of the payments'' month (date_payment, else date_created, account time zone).';
COMMENT ON COLUMN analytics.revenue_by_month.record_type_name IS 'The payments'' job type; ''(unassigned)'' for payments without a known job.';
COMMENT ON COLUMN analytics.revenue_by_month.is_legacy IS 'The job type is Legacy (Bob''s Workflow): filter on it to leave legacy out.';
COMMENT ON COLUMN analytics.revenue_by_month.payment_method IS 'Check, Credit Card, ''method N'', else ''(unassigned)''.';
COMMENT ON COLUMN analytics.revenue_by_month.lead_source IS 'The job''s source, else its primary contact''s, else the payer''s, else ''(unassigned)''.';
COMMENT ON COLUMN analytics.revenue_by_month.payment_count IS 'Payments that count as revenue in the group.';
COMMENT ON COLUMN analytics.revenue_by_month.gross_amount IS 'Sum of the payments'' totals, dollars.';
COMMENT ON COLUMN analytics.revenue_by_month.credit IS 'Sum of credits, dollars.';
COMMENT ON COLUMN analytics.revenue_by_month.refunded_amount IS 'Sum of refunded amounts, dollars.';
COMMENT ON COLUMN analytics.revenue_by_month.revenue IS 'gross_amount - credit - refunded_amount, dollars (see analytics.revenue_payments).';
