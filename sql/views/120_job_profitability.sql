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

COMMENT ON MATERIALIZED VIEW analytics.job_profitability IS
    'Per live job (analytics.jobs_current): revenue collected, costs, gross profit and margin. Per job type over time: analytics.job_type_monthly.';
COMMENT ON COLUMN analytics.job_profitability.job_id IS 'The job (jobs.id, its jnid).';
COMMENT ON COLUMN analytics.job_profitability.record_type_name IS 'The job''s type (workflow); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.job_profitability.is_legacy IS 'The job is of the Legacy (Bob''s Workflow) type.';
COMMENT ON COLUMN analytics.job_profitability.revenue IS 'The job''s revenue (analytics.revenue_payments), dollars.';
COMMENT ON COLUMN analytics.job_profitability.expenses IS 'The job''s costs: active, not archived work and material orders (draft and cancelled material orders excluded), dollars.';
COMMENT ON COLUMN analytics.job_profitability.gross_profit IS 'revenue - expenses, dollars.';
COMMENT ON COLUMN analytics.job_profitability.gross_margin IS 'gross_profit / revenue as a fraction (4 decimals); NULL without revenue.';
