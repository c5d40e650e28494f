-- Revenue: daily trend for any date range (PRD P0), every day listed (0 without payments);
-- optionally one job type (record_type NULL = all).
SELECT d::date AS day, coalesce(r.revenue, 0) AS revenue
FROM generate_series(%(date_from)s::date, %(date_to)s::date, interval '1 day') d
LEFT JOIN (
    SELECT day, sum(revenue) AS revenue
    FROM analytics.revenue_daily
    WHERE day BETWEEN %(date_from)s::date AND %(date_to)s::date
      AND (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
    GROUP BY day
) r ON r.day = d::date
ORDER BY d
