-- analytics.revenue_payments: one row per payment that counts as revenue, with every dimension
-- a revenue breakdown uses. The single definition of revenue: every other revenue figure sums it.
--   counts     = active and not archived (soft-deleted payments never count); on any job,
--                archived or inactive jobs too (the money arrived) and legacy jobs included;
--                never a test record ("jane tester" on the job, or on the payer when no job);
--                dated (date_payment, else date_created)
--   revenue    = total - credit - refunded_amount: cash received net of credits and refunds
--                (a refund is netted on its payment's day: the API gives no refund date)
--   day, month = of date_payment (else date_created) in the account time zone (gcc_settings)
--   record_type_name, is_legacy = of the payment's job; '(unassigned)' and false without one
--   sales_rep_id = the job's rep (who is credited with the sale, as jobs won and pipeline are),
--                else the payment's own sales_rep, else '(unassigned)'
--   payment_method = Check, Credit Card, method N, else '(unassigned)'
--   lead_source = the job's source, else its primary contact's, else the payer's, else
--                '(unassigned)'
DROP MATERIALIZED VIEW IF EXISTS analytics.revenue_payments CASCADE;
CREATE MATERIALIZED VIEW analytics.revenue_payments AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
)
SELECT p.id AS payment_id,
       p.job_id,
       (coalesce(p.date_payment, p.date_created) AT TIME ZONE tz.name)::date AS day,
       date_trunc('month', coalesce(p.date_payment, p.date_created) AT TIME ZONE tz.name)::date
           AS month,
       coalesce(j.record_type_name, '(unassigned)') AS record_type_name,
       coalesce(j.is_legacy, false) AS is_legacy,
       coalesce(j.sales_rep_id, p.sales_rep_id, '(unassigned)') AS sales_rep_id,
       coalesce(p.payment_method, '(unassigned)') AS payment_method,
       coalesce(j.source_name, jc.lead_source, pc.lead_source, '(unassigned)') AS lead_source,
       coalesce(p.amount, 0)::numeric(14,2) AS gross_amount,
       coalesce(p.credit, 0)::numeric(14,2) AS credit,
       coalesce(p.refunded_amount, 0)::numeric(14,2) AS refunded_amount,
       (coalesce(p.amount, 0) - coalesce(p.credit, 0) - coalesce(p.refunded_amount, 0))::numeric(14,2)
           AS revenue
FROM payments p
CROSS JOIN tz
LEFT JOIN jobs j ON j.id = p.job_id
LEFT JOIN contacts jc ON jc.id = j.primary_contact_id
LEFT JOIN contacts pc ON pc.id = p.contact_id
WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
  AND coalesce(p.date_payment, p.date_created) IS NOT NULL
  AND NOT coalesce(j.is_test, pc.is_test, false)
WITH DATA;
CREATE UNIQUE INDEX revenue_payments_key ON analytics.revenue_payments (payment_id);
CREATE INDEX revenue_payments_job_idx ON analytics.revenue_payments (job_id);

COMMENT ON MATERIALIZED VIEW analytics.revenue_payments IS
    'One row per payment that counts as revenue (active, not archived, not a test record; on any job, legacy and archived jobs included): the single definition of revenue, which every revenue figure sums.';
COMMENT ON COLUMN analytics.revenue_payments.payment_id IS 'The payment (payments.id, its jnid).';
COMMENT ON COLUMN analytics.revenue_payments.job_id IS 'The payment''s job (payments.job_id); NULL when the payment names no job.';
COMMENT ON COLUMN analytics.revenue_payments.day IS 'Day of date_payment (else date_created) in the account time zone.';
COMMENT ON COLUMN analytics.revenue_payments.month IS 'First day of that day''s month (account time zone).';
COMMENT ON COLUMN analytics.revenue_payments.record_type_name IS 'The job''s type (workflow); ''(unassigned)'' when the job is unknown.';
COMMENT ON COLUMN analytics.revenue_payments.is_legacy IS 'The job is of the Legacy (Bob''s Workflow) type; false when the job is unknown.';
COMMENT ON COLUMN analytics.revenue_payments.sales_rep_id IS 'Rep credited: the job''s sales rep, else the payment''s own sales_rep, else ''(unassigned)''.';
COMMENT ON COLUMN analytics.revenue_payments.payment_method IS 'Check, Credit Card or ''method N'' (an id the account does not name); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.revenue_payments.lead_source IS 'The job''s source, else its primary contact''s, else the payer''s, else ''(unassigned)''.';
COMMENT ON COLUMN analytics.revenue_payments.gross_amount IS 'The payment''s total, dollars.';
COMMENT ON COLUMN analytics.revenue_payments.credit IS 'Credit applied to the payment, dollars.';
COMMENT ON COLUMN analytics.revenue_payments.refunded_amount IS 'Amount refunded from the payment, dollars (netted on the payment''s day: the API gives no refund date).';
COMMENT ON COLUMN analytics.revenue_payments.revenue IS 'gross_amount - credit - refunded_amount, dollars: the revenue every figure sums.';
