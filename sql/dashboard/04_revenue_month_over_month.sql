-- Revenue: month-over-month change (PRD P0), this month against last month, in percent.
SELECT this_month, last_month,
       round(100 * (this_month - last_month) / nullif(last_month, 0), 1) AS change_pct
FROM (
    SELECT coalesce(sum(revenue) FILTER (
               WHERE month = date_trunc('month', %(today)s::date)::date), 0) AS this_month,
           coalesce(sum(revenue) FILTER (
               WHERE month = (date_trunc('month', %(today)s::date) - interval '1 month')::date), 0)
               AS last_month
    FROM analytics.revenue_by_month
    WHERE month >= (date_trunc('month', %(today)s::date) - interval '1 month')::date
      AND month <= date_trunc('month', %(today)s::date)::date
) m
