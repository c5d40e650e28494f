-- Revenue: last month's revenue (PRD P0).
SELECT coalesce(sum(revenue), 0) AS revenue, coalesce(sum(payment_count), 0) AS payments
FROM analytics.revenue_by_month
WHERE month = (date_trunc('month', %(today)s::date) - interval '1 month')::date
