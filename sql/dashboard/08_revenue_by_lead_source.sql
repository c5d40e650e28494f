-- Revenue by lead source (PRD P1) for a range of months.
SELECT lead_source, sum(revenue) AS revenue, sum(payment_count) AS payments
FROM analytics.revenue_by_month
WHERE month BETWEEN %(month_from)s AND %(month_to)s
GROUP BY lead_source
ORDER BY revenue DESC, lead_source
