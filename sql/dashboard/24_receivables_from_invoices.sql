-- Operations (PRD P2): outstanding receivables from the invoices per job, largest first, beside the job roll-up (approved invoice total - payments received) and their difference.
SELECT job_id, number, name, stage, sales_rep_name, invoice_count, invoiced, invoice_paid,
       receivable, rollup_receivable, difference
FROM analytics.job_receivables
WHERE receivable > 0
ORDER BY receivable DESC, job_id
LIMIT %(limit)s
