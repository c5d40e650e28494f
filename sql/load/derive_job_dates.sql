-- From status history: date_sold = first entry into Sold or a later funnel stage;
-- date_completed = first entry into a completing status (Paid & Closed, or a status of the
-- Completed stage: gcc_is_completed); date_lost = first entry into the Lost stage.
-- For the jobs in history_scope, or every job when %(all)s.
WITH derived AS (
    SELECT j.id,
           min(h.changed_at) FILTER (WHERE gcc_stage_order(h.stage) BETWEEN 3 AND 6) AS sold,
           min(h.changed_at) FILTER (WHERE gcc_is_completed(h.stage, h.status_name)) AS completed,
           min(h.changed_at) FILTER (WHERE h.stage = 'Lost') AS lost
    FROM jobs j
    LEFT JOIN job_status_history h ON h.job_id = j.id
    WHERE %(all)s OR j.id IN (SELECT job_id FROM history_scope)
    GROUP BY j.id
)
UPDATE jobs j
SET date_sold = d.sold, date_completed = d.completed, date_lost = d.lost, updated_at = now()
FROM derived d
WHERE j.id = d.id
  AND (j.date_sold IS DISTINCT FROM d.sold OR j.date_completed IS DISTINCT FROM d.completed
       OR j.date_lost IS DISTINCT FROM d.lost)
