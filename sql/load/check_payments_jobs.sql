-- Payments with no job or with a job the warehouse does not have (revenue by record type and
-- job profitability would leave them out).
WITH orphans AS (
    SELECT p.id, p.job_id, p.net_amount
    FROM payments p
    LEFT JOIN jobs j ON j.id = p.job_id
    WHERE j.id IS NULL
)
SELECT (SELECT count(*) FROM payments) AS payments,
       count(*) FILTER (WHERE job_id IS NULL) AS without_job,
       count(*) FILTER (WHERE job_id IS NOT NULL) AS unknown_job,
       coalesce(sum(net_amount), 0) AS orphan_net_amount,
       coalesce((array_agg(id ORDER BY id))[1:%(examples)s], '{}') AS examples
FROM orphans
