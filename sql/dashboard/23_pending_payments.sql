-- Operations (PRD P2): pending payments, the open invoice balances by age since the invoice date (0-30, 31-60, 61-90, 90+ days; an invoice dated after today counts as 0-30).
SELECT bucket, sum(invoices) AS invoices, sum(due) AS due
FROM (
    SELECT invoices, due,
           CASE WHEN %(today)s::date - invoice_day <= 30 THEN '0-30'
                WHEN %(today)s::date - invoice_day <= 60 THEN '31-60'
                WHEN %(today)s::date - invoice_day <= 90 THEN '61-90'
                ELSE '90+' END AS bucket
    FROM analytics.open_invoices_by_day
) by_day
GROUP BY bucket
ORDER BY bucket
