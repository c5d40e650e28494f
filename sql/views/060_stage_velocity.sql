-- analytics.stage_velocity: time between consecutive stage entries of live jobs
-- (analytics.jobs_current), from job_status_history, whose first row is the job's creation.
-- History rows without a stage are skipped; consecutive rows of one stage are one entry; each
-- pair of consecutive entries is a transition from_stage -> to_stage, its days the difference
-- of the two entry times (the time spent in from_stage). Backward moves count too.
--   total_days = the sum, so averages over several rows are sum(total_days) / sum(transitions)
DROP MATERIALIZED VIEW IF EXISTS analytics.stage_velocity CASCADE;
CREATE MATERIALIZED VIEW analytics.stage_velocity AS
WITH live AS (
    SELECT job_id, record_type_name, is_legacy FROM analytics.jobs_current
), staged AS (
    SELECT h.job_id, h.stage, h.changed_at, h.id,
           lag(h.stage) OVER (PARTITION BY h.job_id ORDER BY h.changed_at, h.id) AS prev_stage
    FROM job_status_history h
    JOIN live l ON l.job_id = h.job_id
    WHERE h.stage IS NOT NULL
), entries AS (
    SELECT job_id, stage, changed_at,
           lead(stage) OVER w AS next_stage,
           lead(changed_at) OVER w AS next_at
    FROM staged
    WHERE prev_stage IS DISTINCT FROM stage
    WINDOW w AS (PARTITION BY job_id ORDER BY changed_at, id)
), transitions AS (
    SELECT e.job_id, e.stage AS from_stage, e.next_stage AS to_stage,
           extract(epoch FROM e.next_at - e.changed_at) / 86400.0 AS days
    FROM entries e
    WHERE e.next_stage IS NOT NULL
)
SELECT l.record_type_name,
       l.is_legacy,
       t.from_stage,
       t.to_stage,
       gcc_stage_order(t.from_stage) AS from_stage_order,
       gcc_stage_order(t.to_stage) AS to_stage_order,
       count(*)::integer AS transitions,
       round(sum(t.days), 4) AS total_days,
       round(avg(t.days), 2) AS avg_days,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY t.days))::numeric, 2) AS median_days
FROM transitions t
JOIN live l ON l.job_id = t.job_id
GROUP BY l.record_type_name, l.is_legacy, t.from_stage, t.to_stage
WITH DATA;
CREATE UNIQUE INDEX stage_velocity_key
    ON analytics.stage_velocity (record_type_name, is_legacy, from_stage, to_stage);

COMMENT ON MATERIALIZED VIEW analytics.stage_velocity IS
    'Transitions between consecutive stage entries of live jobs (status history, which starts at creation; rows without a stage skipped, backward moves included), per job type, with the days spent in from_stage.';
COMMENT ON COLUMN analytics.stage_velocity.record_type_name IS 'The jobs'' type (workflow); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.stage_velocity.is_legacy IS 'The job type is Legacy (Bob''s Workflow).';
COMMENT ON COLUMN analytics.stage_velocity.from_stage IS 'The stage the jobs left.';
COMMENT ON COLUMN analytics.stage_velocity.to_stage IS 'The stage they entered next (a backward move is a transition too).';
COMMENT ON COLUMN analytics.stage_velocity.from_stage_order IS 'Funnel order of from_stage: Lead 1 .. Completed 6, Lost 7, None 8.';
COMMENT ON COLUMN analytics.stage_velocity.to_stage_order IS 'Funnel order of to_stage.';
COMMENT ON COLUMN analytics.stage_velocity.transitions IS 'How many times live jobs moved from from_stage to to_stage.';
COMMENT ON COLUMN analytics.stage_velocity.total_days IS 'Sum of the days between the two entries (time spent in from_stage); average over rows = sum(total_days) / sum(transitions).';
COMMENT ON COLUMN analytics.stage_velocity.avg_days IS 'Mean days spent in from_stage before the move (2 decimals).';
COMMENT ON COLUMN analytics.stage_velocity.median_days IS 'Median days spent in from_stage before the move (2 decimals).';
