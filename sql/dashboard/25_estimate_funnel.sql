-- Sales: the estimate funnel for jobs whose first estimate was sent in a range of months, sent -> approved -> declined with their values, approval rate and average days to approval, per rep, per job type and in all (breakdown 'rep', 'job type', 'all'). Filters (NULL = all): job type, rep.
SELECT CASE WHEN GROUPING(sales_rep_id) = 0 THEN 'rep'
            WHEN GROUPING(record_type_name) = 0 THEN 'job type' ELSE 'all' END AS breakdown,
       sales_rep_id, min(sales_rep_name) AS sales_rep_name, record_type_name,
       sum(sent) AS sent, sum(sent_value) AS sent_value, sum(approved) AS approved,
       sum(approved_value) AS approved_value, sum(declined) AS declined,
       sum(declined_value) AS declined_value, sum(open) AS open,
       round(sum(approved)::numeric / nullif(sum(sent), 0), 4) AS approval_rate,
       round(sum(days_to_approval_total) / nullif(sum(approved), 0), 2) AS avg_days_to_approval
FROM analytics.estimate_funnel
WHERE sent_month BETWEEN %(month_from)s AND %(month_to)s
  AND (%(record_type)s::text IS NULL OR record_type_name = %(record_type)s)
  AND (%(sales_rep_id)s::text IS NULL OR sales_rep_id = %(sales_rep_id)s)
GROUP BY GROUPING SETS ((sales_rep_id), (record_type_name), ())
ORDER BY breakdown DESC, approved_value DESC, sales_rep_id, record_type_name
