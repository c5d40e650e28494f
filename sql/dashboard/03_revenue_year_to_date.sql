-- Revenue: year to date (PRD P0), January through the current month.
SELECT coalesce(sum(revenue), 0) AS revenue, coalesce(sum(payment_count), 0) AS payments
FROM analytics.revenue_by_month
WHERE month BETWEEN date_trunc('year', %(today)s::date)::date
                AND date_trunc('month', %(today)s::date)::date
