-- analytics.job_receivables: per live job (analytics.jobs_current) with something owed on either
-- side (a paid-off job, 0 on both, is left out): what its invoices say is owed (sum of
-- invoice_balances.due) beside the roll-up (jobs_current.outstanding_receivable = approved_invoice_total - revenue).
-- difference = invoice receivable - roll-up; the receivables_match_invoices check warns on any
-- job where it is not 0 (a payment not applied to the invoice, a credit or refund the invoice
-- does not show, an invoice the roll-up does not count yet).
DROP MATERIALIZED VIEW IF EXISTS analytics.job_receivables CASCADE;
CREATE MATERIALIZED VIEW analytics.job_receivables AS
WITH inv AS (
    SELECT job_id, count(*) AS invoices, sum(total) AS invoiced, sum(total_paid) AS paid,
           sum(due) AS due
    FROM analytics.invoice_balances
    WHERE job_id IS NOT NULL
    GROUP BY job_id
)
SELECT jc.job_id,
       jc.number,
       jc.name,
       jc.stage,
       jc.record_type_name,
       jc.sales_rep_id,
       jc.sales_rep_name,
       coalesce(inv.invoices, 0)::integer AS invoice_count,
       coalesce(inv.invoiced, 0)::numeric(14,2) AS invoiced,
       coalesce(inv.paid, 0)::numeric(14,2) AS invoice_paid,
       coalesce(inv.due, 0)::numeric(14,2) AS receivable,
       jc.outstanding_receivable AS rollup_receivable,
       (coalesce(inv.due, 0) - jc.outstanding_receivable)::numeric(14,2) AS difference
FROM analytics.jobs_current jc
LEFT JOIN inv ON inv.job_id = jc.job_id
WHERE coalesce(inv.due, 0) <> 0 OR jc.outstanding_receivable <> 0
WITH DATA;
CREATE UNIQUE INDEX job_receivables_key ON analytics.job_receivables (job_id);
CREATE INDEX job_receivables_open_idx ON analytics.job_receivables (receivable DESC, job_id)
    WHERE receivable > 0;
COMMENT ON MATERIALIZED VIEW analytics.job_receivables IS
    'Per live job with something owed by its invoices or by the roll-up: owed by its invoices beside the job roll-up (approved_invoice_total - revenue), and their difference (checked by receivables_match_invoices).';
COMMENT ON COLUMN analytics.job_receivables.job_id IS 'The job.';
COMMENT ON COLUMN analytics.job_receivables.number IS 'The job number.';
COMMENT ON COLUMN analytics.job_receivables.name IS 'The job name.';
COMMENT ON COLUMN analytics.job_receivables.stage IS 'The job''s current stage.';
COMMENT ON COLUMN analytics.job_receivables.record_type_name IS 'The job type.';
COMMENT ON COLUMN analytics.job_receivables.sales_rep_id IS 'The job''s rep ((unassigned) without one).';
COMMENT ON COLUMN analytics.job_receivables.sales_rep_name IS 'The rep''s name.';
COMMENT ON COLUMN analytics.job_receivables.invoice_count IS 'Its invoices that count (analytics.invoice_balances).';
COMMENT ON COLUMN analytics.job_receivables.invoiced IS 'Their totals.';
COMMENT ON COLUMN analytics.job_receivables.invoice_paid IS 'Paid on them, as the API states.';
COMMENT ON COLUMN analytics.job_receivables.receivable IS 'Outstanding receivable from invoices: the sum of their due.';
COMMENT ON COLUMN analytics.job_receivables.rollup_receivable IS 'jobs_current.outstanding_receivable: approved_invoice_total - revenue.';
COMMENT ON COLUMN analytics.job_receivables.difference IS 'receivable - rollup_receivable (0 when the invoices and the roll-up agree).';
