-- Sales: the estimate funnel for jobs whose first estimate was sent in a range of months, sent -> approved -> declined with their values, approval rate and average days to approval, per rep, per job type and in all (breakdown 'rep', 'job type', 'all'). Filters (NULL = all): job type, rep.
WITH picked AS (
    -- without a filter the view's own per-rep and per-job-type rows; with one, the rep-and-job-
    -- type rows it selects, counted once per rep and once per job type
    SELECT b.breakdown,
           CASE WHEN b.breakdown = 'rep' THEN f.sales_rep_id END AS sales_rep_id,
           CASE WHEN b.breakdown = 'rep' THEN f.sales_rep_name END AS sales_rep_name,
           CASE WHEN b.breakdown = 'job type' THEN f.record_type_name END AS record_type_name,
           f.sent, f.sent_value, f.approved, f.approved_value, f.declined, f.declined_value,
           f.days_to_approval_total
    FROM (VALUES ('rep'), ('job type')) b (breakdown)
    JOIN analytics.estimate_funnel f
      ON f.breakdown = CASE WHEN %(record_type)s::text IS NULL AND %(sales_rep_id)s::text IS NULL
                            THEN b.breakdown ELSE 'rep and job type' END
    WHERE f.sent_month BETWEEN %(month_from)s AND %(month_to)s
      AND (%(record_type)s::text IS NULL OR f.record_type_name = %(record_type)s)
      AND (%(sales_rep_id)s::text IS NULL OR f.sales_rep_id = %(sales_rep_id)s)
), summed AS (
    SELECT breakdown, sales_rep_id, min(sales_rep_name) AS sales_rep_name, record_type_name,
           sum(sent) AS sent, sum(sent_value) AS sent_value, sum(approved) AS approved,
           sum(approved_value) AS approved_value, sum(declined) AS declined,
           sum(declined_value) AS declined_value, sum(days_to_approval_total) AS days
    FROM picked
    GROUP BY breakdown, sales_rep_id, record_type_name
    UNION ALL
    SELECT 'all', NULL, NULL, NULL, sum(sent), sum(sent_value), sum(approved),
           sum(approved_value), sum(declined), sum(declined_value), sum(days_to_approval_total)
    FROM picked
    WHERE breakdown = 'job type'
)
SELECT breakdown, sales_rep_id, sales_rep_name, record_type_name, sent, sent_value, approved,
       approved_value, declined, declined_value, sent - approved - declined AS open,
       round(approved::numeric / nullif(sent, 0), 4) AS approval_rate,
       round(days / nullif(approved, 0), 2) AS avg_days_to_approval
FROM summed
ORDER BY breakdown DESC, approved_value DESC, sales_rep_id, record_type_name
