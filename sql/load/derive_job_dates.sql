-- From status history: date_sold = first entry into Sold or a later funnel stage;
-- date_completed = first entry into a completing status (Paid & Closed, or a status of the
-- Completed stage: gcc_is_completed); date_lost = first entry into the Lost stage.
WITH affected AS (
    SELECT id FROM jobs
    WHERE %(all)s OR (date_updated >= %(start)s AND date_updated < %(end)s)
    UNION
    SELECT job_id FROM job_status_history
    WHERE NOT %(all)s AND changed_at >= %(start)s AND changed_at < %(end)s
), derived AS (
    SELECT a.id,
           min(h.changed_at) FILTER (WHERE gcc_stage_order(h.stage) BETWEEN 3 AND 6) AS sold,
           min(h.changed_at) FILTER (WHERE gcc_is_completed(h.stage, h.status_name)) AS completed,
           min(h.changed_at) FILTER (WHERE h.stage = 'Lost') AS lost
    FROM affected a
    LEFT JOIN job_status_history h ON h.job_id = a.id
    GROUP BY a.id
)
UPDATE jobs j
SET date_sold = d.sold, date_completed = d.completed, date_lost = d.lost, updated_at = now()
FROM derived d
WHERE j.id = d.id
  AND (j.date_sold IS DISTINCT FROM d.sold OR j.date_completed IS DISTINCT FROM d.completed
       OR j.date_lost IS DISTINCT FROM d.lost)
