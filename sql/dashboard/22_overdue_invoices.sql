-- Operations (PRD P2 alert): overdue invoices, something still due and the due date more than 7 days before today, oldest first, with rep and job type. Filters (NULL = all): job type, rep.
SELECT invoice_id, number, job_id, job_name, record_type_name, sales_rep_id, sales_rep_name,
       status_name, invoice_day, due_day, %(today)s::date - due_day AS days_overdue, total,
       total_paid, due
FROM analytics.invoice_balances
WHERE due > 0 AND due_day < %(today)s::date - 7
  AND (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(sales_rep_id)s::text IS NULL OR sales_rep_id = %(sales_rep_id)s)
ORDER BY due_day, invoice_id
LIMIT %(limit)s
