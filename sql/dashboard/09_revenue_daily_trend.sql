-- Revenue: daily trend for any date range (PRD P0), every day listed (0 without payments);
-- optionally one job type (record_type NULL = all).
SELECT d::date AS day, coalesce(sum(r.revenue), 0) AS revenue
FROM generate_series(%(date_from)s::date, %(date_to)s::date, interval '1 day') d
LEFT JOIN analytics.revenue_daily r
       ON r.day = d::date
      AND (%(record_type)s::text IS NULL OR r.record_type_name = %(record_type)s)
GROUP BY d
ORDER BY d
