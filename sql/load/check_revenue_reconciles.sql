-- Every revenue breakdown adds up to the revenue total (issue 12): the total is computed here
-- from the payments, by the definition of analytics.revenue_payments (active, not archived,
-- dated, not a test record; total - credit - refunded), and each view's sum is compared to it.
-- A breakdown off by anything lost or double-counted money (or is stale).
WITH total AS (
    SELECT coalesce(sum(coalesce(p.amount, 0) - coalesce(p.credit, 0)
                        - coalesce(p.refunded_amount, 0)), 0) AS revenue
    FROM payments p
    LEFT JOIN jobs j ON j.id = p.job_id
    LEFT JOIN contacts pc ON pc.id = p.contact_id
    WHERE p.is_active IS NOT FALSE AND p.is_archived IS NOT TRUE
      AND coalesce(p.date_payment, p.date_created) IS NOT NULL
      AND NOT coalesce(j.is_test, pc.is_test, false)
), breakdowns(breakdown, revenue) AS (
    SELECT 'revenue_payments', sum(revenue) FROM analytics.revenue_payments
    UNION ALL SELECT 'revenue_daily', sum(revenue) FROM analytics.revenue_daily
    UNION ALL SELECT 'revenue_by_month', sum(revenue) FROM analytics.revenue_by_month
    UNION ALL SELECT 'rep_monthly', sum(revenue) FROM analytics.rep_monthly
    UNION ALL SELECT 'rep_performance', sum(revenue) FROM analytics.rep_performance
    UNION ALL SELECT 'lead_source_performance', sum(revenue) FROM analytics.lead_source_performance
    UNION ALL SELECT 'job_type_monthly', sum(revenue) FROM analytics.job_type_monthly
    UNION ALL SELECT 'cash_flow_by_month', sum(cash_in) FROM analytics.cash_flow_by_month
)
SELECT b.breakdown, coalesce(b.revenue, 0)::numeric(14,2) AS revenue,
       t.revenue::numeric(14,2) AS total,
       (coalesce(b.revenue, 0) - t.revenue)::numeric(14,2) AS off_by
FROM breakdowns b
CROSS JOIN total t
