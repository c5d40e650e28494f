-- Job type analysis (PRD P1) for a range of months: revenue, jobs created, average job value,
-- win rate, average days to close and gross margin per job type.
SELECT record_type_name, is_legacy,
       sum(revenue) AS revenue,
       sum(leads) AS jobs,
       sum(jobs_won) AS jobs_won,
       round(sum(won_value) / nullif(sum(jobs_won), 0), 2) AS avg_job_value,
       round(sum(jobs_won)::numeric / nullif(sum(jobs_won) + sum(jobs_lost), 0), 4) AS win_rate,
       round(sum(days_to_close_total) / nullif(sum(jobs_won_dated), 0), 2) AS avg_days_to_close,
       round(100 * (sum(revenue) - sum(costs)) / nullif(sum(revenue), 0), 1) AS gross_margin_pct
FROM analytics.job_type_monthly
WHERE month BETWEEN %(month_from)s AND %(month_to)s
GROUP BY record_type_name, is_legacy
ORDER BY revenue DESC, record_type_name
