-- analytics.stage_conversion: the funnel per job type, from the history of live jobs
-- (analytics.jobs_current), whose first row is the job's creation.
-- For each funnel stage Lead .. Completed (orders 1-6): reached = jobs whose history entered
-- this stage or a later funnel stage (Lost and None never count); converted_to_next = those
-- that entered a later funnel stage; next_stage_rate = converted_to_next / reached (NULL for
-- Completed, the last bar, and where none reached). Every (job type, funnel stage) has a row.
-- (This rate is stage to next stage; win_rate and lead_to_sold_rate are defined in
-- analytics.jobs_current.)
DROP MATERIALIZED VIEW IF EXISTS analytics.stage_conversion CASCADE;
CREATE MATERIALIZED VIEW analytics.stage_conversion AS
WITH live AS (
    SELECT job_id, record_type_name, is_legacy FROM analytics.jobs_current
), furthest AS (
    SELECT l.record_type_name, l.is_legacy, l.job_id,
           max(gcc_stage_order(h.stage)) FILTER (WHERE gcc_stage_order(h.stage) BETWEEN 1 AND 6)
               AS max_order
    FROM live l
    LEFT JOIN job_status_history h ON h.job_id = l.job_id
    GROUP BY 1, 2, 3
), funnel AS (
    SELECT stage, stage_order FROM gcc_funnel_stages()
), counts AS (
    SELECT rt.record_type_name, rt.is_legacy, f.stage, f.stage_order,
           count(fu.job_id) FILTER (WHERE fu.max_order >= f.stage_order)::integer AS reached,
           CASE WHEN f.stage_order < 6
                THEN count(fu.job_id) FILTER (WHERE fu.max_order >= f.stage_order + 1)
                ELSE 0 END::integer AS converted_to_next
    FROM (SELECT DISTINCT record_type_name, is_legacy FROM live) rt
    CROSS JOIN funnel f
    LEFT JOIN furthest fu ON fu.record_type_name = rt.record_type_name
                         AND fu.is_legacy = rt.is_legacy
    GROUP BY 1, 2, 3, 4
)
SELECT record_type_name, is_legacy, stage, stage_order, reached, converted_to_next,
       CASE WHEN stage_order < 6
            THEN round(converted_to_next::numeric / nullif(reached, 0), 4) END AS next_stage_rate
FROM counts
WITH DATA;
CREATE UNIQUE INDEX stage_conversion_key
    ON analytics.stage_conversion (record_type_name, is_legacy, stage);

COMMENT ON MATERIALIZED VIEW analytics.stage_conversion IS
    'The funnel per job type, from the status history of live jobs: for each funnel stage Lead .. Completed, the jobs that reached it (or a later funnel stage) and those that went on to a later one. Every (job type, funnel stage) has a row.';
COMMENT ON COLUMN analytics.stage_conversion.record_type_name IS 'The jobs'' type (workflow); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.stage_conversion.is_legacy IS 'The job type is Legacy (Bob''s Workflow).';
COMMENT ON COLUMN analytics.stage_conversion.stage IS 'A funnel stage: Lead, Estimating, Sold, In Production, Accounts Receivable or Completed.';
COMMENT ON COLUMN analytics.stage_conversion.stage_order IS 'Its funnel order, 1 (Lead) .. 6 (Completed).';
COMMENT ON COLUMN analytics.stage_conversion.reached IS 'Live jobs whose history entered this stage or a later funnel stage (Lost and None never count).';
COMMENT ON COLUMN analytics.stage_conversion.converted_to_next IS 'Of those, the jobs that entered a later funnel stage; 0 for Completed.';
COMMENT ON COLUMN analytics.stage_conversion.next_stage_rate IS 'converted_to_next / reached (4 decimals): stage to next stage, not win_rate; NULL for Completed and where none reached.';
