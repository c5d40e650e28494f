-- Operations (PRD P2): outstanding receivables per job, the approved invoice total minus the
-- payments received, largest first.
SELECT job_id, number, name, stage, approved_invoice_total, revenue AS received,
       outstanding_receivable
FROM analytics.jobs_current
WHERE outstanding_receivable > 0
ORDER BY outstanding_receivable DESC, job_id
LIMIT %(limit)s
