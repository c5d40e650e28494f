-- Payment money sanity: credit never above the total, no negative amounts.
WITH bad AS (
    SELECT id,
           credit > amount AS credit_above_total,
           (amount < 0 OR credit < 0 OR refunded_amount < 0) AS negative_amount
    FROM payments
    WHERE credit > amount OR amount < 0 OR credit < 0 OR refunded_amount < 0
)
SELECT (SELECT count(*) FROM payments) AS payments,
       count(*) FILTER (WHERE credit_above_total) AS credit_above_total,
       count(*) FILTER (WHERE negative_amount) AS negative_amount,
       coalesce((array_agg(id ORDER BY id))[1:%(examples)s], '{}') AS examples
FROM bad
