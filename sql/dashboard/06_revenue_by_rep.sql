-- Revenue by sales rep (PRD P0) for a range of months: the job's rep, else the payment's,
-- else '(unassigned)'.
SELECT sales_rep_id, sales_rep_name, sum(revenue) AS revenue, sum(payment_count) AS payments
FROM analytics.rep_monthly
WHERE month BETWEEN %(month_from)s AND %(month_to)s
GROUP BY sales_rep_id, sales_rep_name
HAVING sum(payment_count) > 0
ORDER BY revenue DESC, sales_rep_id
