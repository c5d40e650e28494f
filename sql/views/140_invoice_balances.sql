-- analytics.invoice_balances: one row per invoice that counts: active, not archived, not void
-- or draft (status names void, voided, draft, any case), not a test record (its job, else its
-- contact). Paid invoices are kept (due 0) so the per-job receivables add up; an invoice without
-- a job is kept too ('(unassigned)' job type). Amounts are the API's (due = still owed).
--   sales_rep_id = the job's rep, else the invoice's, else '(unassigned)' (as revenue credits)
--   invoice_day, due_day = date_invoice (else date_created) and date_due in the account time zone
-- Ages and "overdue" depend on today, so the dashboard queries compute them (a view column would
-- go stale between refreshes): overdue = due > 0 and due_day more than 7 days before today.
DROP MATERIALIZED VIEW IF EXISTS analytics.invoice_balances CASCADE;
CREATE MATERIALIZED VIEW analytics.invoice_balances AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
)
SELECT i.id AS invoice_id,
       i.number,
       i.job_id,
       j.number AS job_number,
       j.name AS job_name,
       coalesce(i.contact_id, j.primary_contact_id) AS contact_id,
       coalesce(j.record_type_name, '(unassigned)') AS record_type_name,
       coalesce(j.is_legacy, false) AS is_legacy,
       coalesce(j.sales_rep_id, i.sales_rep_id, '(unassigned)') AS sales_rep_id,
       coalesce(sr.name, j.sales_rep_name, i.sales_rep_name, j.sales_rep_id, i.sales_rep_id,
                '(unassigned)') AS sales_rep_name,
       i.status_name,
       (coalesce(i.date_invoice, i.date_created) AT TIME ZONE tz.name)::date AS invoice_day,
       (i.date_due AT TIME ZONE tz.name)::date AS due_day,
       i.date_paid_in_full,
       coalesce(i.total, 0)::numeric(14,2) AS total,
       coalesce(i.total_paid, 0)::numeric(14,2) AS total_paid,
       coalesce(i.due, 0)::numeric(14,2) AS due
FROM invoices i
CROSS JOIN tz
LEFT JOIN jobs j ON j.id = i.job_id
LEFT JOIN contacts c ON c.id = i.contact_id
LEFT JOIN sales_reps sr ON sr.id = coalesce(j.sales_rep_id, i.sales_rep_id)
WHERE i.is_active IS NOT FALSE AND i.is_archived IS NOT TRUE
  AND lower(coalesce(i.status_name, '')) NOT IN ('void', 'voided', 'draft')
  AND NOT coalesce(j.is_test, c.is_test, false)
WITH DATA;
CREATE UNIQUE INDEX invoice_balances_key ON analytics.invoice_balances (invoice_id);
CREATE INDEX invoice_balances_open_due_idx ON analytics.invoice_balances (due_day, invoice_id)
    WHERE due > 0;
CREATE INDEX invoice_balances_job_idx ON analytics.invoice_balances (job_id);
COMMENT ON MATERIALIZED VIEW analytics.invoice_balances IS
    'One row per invoice that counts (active, not archived, not void or draft, not a test record), paid ones included: the balances overdue invoices, pending payments and receivables from invoices read.';
COMMENT ON COLUMN analytics.invoice_balances.invoice_id IS 'The invoice''s jnid.';
COMMENT ON COLUMN analytics.invoice_balances.number IS 'The invoice number.';
COMMENT ON COLUMN analytics.invoice_balances.job_id IS 'Its job; NULL for an invoice without a job.';
COMMENT ON COLUMN analytics.invoice_balances.job_number IS 'The job''s number.';
COMMENT ON COLUMN analytics.invoice_balances.job_name IS 'The job''s name.';
COMMENT ON COLUMN analytics.invoice_balances.contact_id IS 'The invoice''s contact, else its job''s primary contact.';
COMMENT ON COLUMN analytics.invoice_balances.record_type_name IS 'The job''s type; (unassigned) without a job.';
COMMENT ON COLUMN analytics.invoice_balances.is_legacy IS 'The job is in the Legacy workflow.';
COMMENT ON COLUMN analytics.invoice_balances.sales_rep_id IS 'The job''s rep, else the invoice''s, else (unassigned).';
COMMENT ON COLUMN analytics.invoice_balances.sales_rep_name IS 'The rep''s name from account/users, else as seen on the records.';
COMMENT ON COLUMN analytics.invoice_balances.status_name IS 'The invoice status as the account names it.';
COMMENT ON COLUMN analytics.invoice_balances.invoice_day IS 'date_invoice (else date_created) in the account time zone: the age buckets count from it.';
COMMENT ON COLUMN analytics.invoice_balances.due_day IS 'date_due in the account time zone; NULL when unset.';
COMMENT ON COLUMN analytics.invoice_balances.date_paid_in_full IS 'When it was paid in full; NULL while anything is due.';
COMMENT ON COLUMN analytics.invoice_balances.total IS 'Invoice total.';
COMMENT ON COLUMN analytics.invoice_balances.total_paid IS 'Paid on it, as the API states.';
COMMENT ON COLUMN analytics.invoice_balances.due IS 'Still owed, as the API states (0 on a paid invoice).';
