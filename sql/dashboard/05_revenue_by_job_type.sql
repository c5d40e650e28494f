-- Revenue by job type (PRD P0) for a range of months; '(unassigned)' = payments without a
-- known job. is_legacy separates the Legacy workflow (filter on it to leave legacy out).
SELECT record_type_name, is_legacy, sum(revenue) AS revenue, sum(payment_count) AS payments
FROM analytics.revenue_by_month
WHERE month BETWEEN %(month_from)s AND %(month_to)s
GROUP BY record_type_name, is_legacy
ORDER BY revenue DESC, record_type_name
