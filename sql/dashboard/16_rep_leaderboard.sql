-- Sales rep leaderboard for a month (PRD P0): revenue, jobs won, win rate, average job value,
-- current pipeline value and the change against the previous month.
SELECT sales_rep_id, sales_rep_name, revenue, revenue_change, revenue_change_pct, jobs_won,
       jobs_won_change, win_rate, avg_job_value, pipeline_value
FROM analytics.rep_monthly
WHERE month = %(month)s
ORDER BY revenue DESC, jobs_won DESC, sales_rep_id
