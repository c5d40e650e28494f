-- Revenue: this month's revenue (PRD P0). today = the account's local date.
SELECT coalesce(sum(revenue), 0) AS revenue, coalesce(sum(payment_count), 0) AS payments
FROM analytics.revenue_by_month
WHERE month = date_trunc('month', %(today)s::date)::date
