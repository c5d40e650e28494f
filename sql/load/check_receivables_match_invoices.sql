-- Live jobs created since GCC_START_DATE whose receivable from invoices (sum of their due) differs
-- from the job roll-up (approved_invoice_total - revenue) by a cent or more: a payment not applied
-- to its invoice, a credit or refund one side does not show, an invoice the roll-up does not
-- count yet. Older jobs are counted, not compared: their payments may predate the start date and
-- never be copied, while their invoices, changed later, are.
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), scoped AS (
    SELECT r.*, r.date_created >= (%(start_date)s::date)::timestamp AT TIME ZONE tz.name AS compared
    FROM analytics.job_receivables r
    CROSS JOIN tz
)
SELECT count(*) FILTER (WHERE compared) AS jobs,
       count(*) FILTER (WHERE NOT compared) AS jobs_before_start_date,
       count(*) FILTER (WHERE compared AND difference <> 0) AS jobs_disagreeing,
       coalesce(sum(receivable) FILTER (WHERE compared), 0) AS receivable_from_invoices,
       coalesce(sum(rollup_receivable) FILTER (WHERE compared), 0) AS receivable_rollup,
       coalesce(sum(abs(difference)) FILTER (WHERE compared), 0) AS absolute_difference,
       coalesce((array_agg(job_id ORDER BY abs(difference) DESC, job_id)
                 FILTER (WHERE compared AND difference <> 0))[1:%(examples)s], '{}') AS examples
FROM scoped
