-- The headline numbers `gcc run` prints, in one round trip: revenue (net payments) of the last
-- three months, then the active pipeline by stage; each part in its own order.
SELECT part, label, amount, n FROM (
    (SELECT 'revenue' AS part, to_char(month, 'YYYY-MM') AS label, sum(revenue) AS amount,
            sum(payment_count) AS n, row_number() OVER (ORDER BY month DESC) AS position
     FROM analytics.revenue_by_month
     GROUP BY month ORDER BY month DESC LIMIT 3)
    UNION ALL
    (SELECT 'pipeline', stage, sum(estimate_value), sum(job_count),
            row_number() OVER (ORDER BY min(stage_order) NULLS LAST, stage)
     FROM analytics.pipeline_by_stage
     GROUP BY stage)
) parts
ORDER BY part DESC, position
