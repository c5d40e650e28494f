-- Live jobs whose receivable from invoices (sum of their due) differs from the job roll-up
-- (approved_invoice_total - revenue) by a cent or more: a payment not applied to its invoice,
-- a credit or refund one side does not show, an invoice the roll-up does not count yet.
-- Only jobs created inside the window the invoices stream covers are compared: an older job
-- (in the warehouse because it changed since GCC_START_DATE) may have invoices last updated
-- before that date, which no load fetched; those jobs are counted, not judged.
WITH covered AS (
    SELECT coalesce((SELECT covered_from FROM jobnimbus_sync_state WHERE stream = 'invoices'),
                    '-infinity') AS since
), judged AS (
    SELECT r.*, j.date_created >= covered.since AS in_window
    FROM analytics.job_receivables r
    JOIN jobs j ON j.id = r.job_id
    CROSS JOIN covered
)
SELECT count(*) FILTER (WHERE in_window) AS jobs,
       count(*) FILTER (WHERE NOT in_window) AS jobs_before_window,
       count(*) FILTER (WHERE in_window AND difference <> 0) AS jobs_disagreeing,
       coalesce(sum(receivable) FILTER (WHERE in_window), 0) AS receivable_from_invoices,
       coalesce(sum(rollup_receivable) FILTER (WHERE in_window), 0) AS receivable_rollup,
       coalesce(sum(abs(difference)) FILTER (WHERE in_window), 0) AS absolute_difference,
       coalesce((array_agg(job_id ORDER BY abs(difference) DESC, job_id)
                 FILTER (WHERE in_window AND difference <> 0))[1:%(examples)s], '{}') AS examples
FROM judged
