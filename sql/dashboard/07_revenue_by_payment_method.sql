-- Revenue by payment method (PRD P0) for a range of months.
SELECT payment_method, sum(revenue) AS revenue, sum(payment_count) AS payments
FROM analytics.revenue_by_month
WHERE month BETWEEN %(month_from)s AND %(month_to)s
GROUP BY payment_method
ORDER BY revenue DESC, payment_method
