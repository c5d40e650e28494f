-- Live jobs whose receivable from invoices (sum of their due) differs from the job roll-up
-- (approved_invoice_total - revenue) by a cent or more: a payment not applied to its invoice,
-- a credit or refund one side does not show, an invoice the roll-up does not count yet.
SELECT count(*) AS jobs,
       count(*) FILTER (WHERE difference <> 0) AS jobs_disagreeing,
       coalesce(sum(receivable), 0) AS receivable_from_invoices,
       coalesce(sum(rollup_receivable), 0) AS receivable_rollup,
       coalesce(sum(abs(difference)), 0) AS absolute_difference,
       coalesce((array_agg(job_id ORDER BY abs(difference) DESC, job_id)
                 FILTER (WHERE difference <> 0))[1:%(examples)s], '{}') AS examples
FROM analytics.job_receivables
