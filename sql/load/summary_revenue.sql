SELECT month, sum(revenue), sum(payment_count)
FROM analytics.revenue_by_month
GROUP BY month ORDER BY month DESC LIMIT 3
