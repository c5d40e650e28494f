-- analytics.open_tasks: open tasks per assignee and due day. Open = active, not archived, not
-- completed, not a test record (its job, else its contact). due_day = date_end, else
-- date_start, in the account time zone (NULL: the task has neither, never overdue). Overdue is
-- decided by the dashboard query against today (due_day before today), so the view never goes
-- stale; to answer it from one row per assignee, each row carries the assignee's running total
-- of dated tasks through its day and the assignee's totals (on every row; is_first_row marks one
-- row per assignee).
--   assignee_id = the task's first owner, else '(unassigned)'
DROP MATERIALIZED VIEW IF EXISTS analytics.open_tasks CASCADE;
CREATE MATERIALIZED VIEW analytics.open_tasks AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), per_day AS (
    SELECT coalesce(t.assignee_id, '(unassigned)') AS assignee_id,
           coalesce(sr.name, t.assignee_id, '(unassigned)') AS assignee_name,
           (coalesce(t.date_end, t.date_start) AT TIME ZONE tz.name)::date AS due_day,
           count(*)::integer AS tasks,
           count(*) FILTER (WHERE t.priority >= 2)::integer AS high_priority
    FROM tasks t
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = t.job_id
    LEFT JOIN contacts c ON c.id = t.contact_id
    LEFT JOIN sales_reps sr ON sr.id = t.assignee_id
    WHERE t.is_active IS NOT FALSE AND t.is_archived IS NOT TRUE AND NOT t.is_completed
      AND NOT coalesce(j.is_test, c.is_test, false)
    GROUP BY 1, 2, 3
)
SELECT assignee_id, assignee_name, due_day, tasks, high_priority,
       coalesce(sum(tasks) FILTER (WHERE due_day IS NOT NULL) OVER (
           PARTITION BY assignee_id ORDER BY due_day NULLS FIRST
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0)::integer AS dated_tasks_through_day,
       sum(tasks) OVER (PARTITION BY assignee_id)::integer AS assignee_open_tasks,
       coalesce(sum(tasks) FILTER (WHERE due_day IS NULL) OVER (PARTITION BY assignee_id), 0)::integer
           AS assignee_undated_tasks,
       sum(high_priority) OVER (PARTITION BY assignee_id)::integer AS assignee_high_priority,
       row_number() OVER (PARTITION BY assignee_id ORDER BY due_day NULLS FIRST) = 1 AS is_first_row
FROM per_day
WITH DATA;
CREATE UNIQUE INDEX open_tasks_key ON analytics.open_tasks (assignee_id, due_day);
CREATE INDEX open_tasks_first_idx ON analytics.open_tasks (assignee_id) WHERE is_first_row;
COMMENT ON MATERIALIZED VIEW analytics.open_tasks IS
    'Open tasks (active, not archived, not completed, not a test record) per assignee and due day, with running and per-assignee totals: open and overdue tasks per assignee.';
COMMENT ON COLUMN analytics.open_tasks.assignee_id IS 'The task''s first owner, else (unassigned).';
COMMENT ON COLUMN analytics.open_tasks.assignee_name IS 'The assignee''s name from account/users, else the id.';
COMMENT ON COLUMN analytics.open_tasks.due_day IS 'date_end, else date_start, in the account time zone; NULL when the task has neither (never overdue).';
COMMENT ON COLUMN analytics.open_tasks.tasks IS 'Open tasks of the assignee due that day.';
COMMENT ON COLUMN analytics.open_tasks.high_priority IS 'Of those, with priority 2 or more.';
COMMENT ON COLUMN analytics.open_tasks.dated_tasks_through_day IS 'The assignee''s open tasks due on or before due_day (0 on the undated row): overdue = this on the last row before today.';
COMMENT ON COLUMN analytics.open_tasks.assignee_open_tasks IS 'All open tasks of the assignee (the same on each of its rows).';
COMMENT ON COLUMN analytics.open_tasks.assignee_undated_tasks IS 'Its open tasks without a date.';
COMMENT ON COLUMN analytics.open_tasks.assignee_high_priority IS 'Its open tasks with priority 2 or more.';
COMMENT ON COLUMN analytics.open_tasks.is_first_row IS 'True on one row per assignee (its first day, undated first): the row the per-assignee query reads.';
