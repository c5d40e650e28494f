-- Expense money sanity: no negative costs.
WITH bad AS (SELECT id FROM expenses WHERE amount < 0)
SELECT (SELECT count(*) FROM expenses) AS expenses,
       count(*) AS negative_amount,
       coalesce((array_agg(id ORDER BY id))[1:%(examples)s], '{}') AS examples
FROM bad
