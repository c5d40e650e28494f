-- analytics.job_profitability: per live job (analytics.jobs_current): revenue collected
-- (analytics.revenue_payments), costs (work and material orders; draft and cancelled material
-- orders are not costs), gross_profit = revenue - expenses, gross_margin = gross_profit / revenue
-- (NULL without revenue). Per job type over time: analytics.job_type_monthly.
DROP MATERIALIZED VIEW IF EXISTS analytics.job_profitability CASCADE;
CREATE MATERIALIZED VIEW analytics.job_profitability AS
SELECT job_id, record_type_name, is_legacy, revenue, expenses, gross_profit, gross_margin
FROM analytics.jobs_current
WITH DATA;
CREATE UNIQUE INDEX job_profitability_key ON analytics.job_profitability (job_id);
CREATE INDEX job_profitability_type_idx
    ON analytics.job_profitability (record_type_name, gross_profit DESC);
