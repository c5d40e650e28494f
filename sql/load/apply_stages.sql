-- Stage and flags of jobs from workflow_status_lookup, by (record type, normalized status name),
-- never by status id. %(ids)s NULL restages every job (after the mapping changed).
-- is_completed: Paid & Closed or the Completed stage (gcc_is_completed); is_closed: completed
-- or Lost.
WITH resolved AS (
    SELECT j.id, l.stage,
           gcc_is_completed(l.stage, j.status_name) AS completed
    FROM jobs j
    LEFT JOIN workflow_status_lookup l
           ON l.record_type_id = j.record_type_id AND l.status_key = gcc_status_key(j.status_name)
    WHERE %(ids)s::text[] IS NULL OR j.id = ANY (%(ids)s::text[])
)
UPDATE jobs j
SET stage        = r.stage,
    stage_order  = gcc_stage_order(r.stage),
    is_won       = coalesce(gcc_stage_order(r.stage) BETWEEN 3 AND 6, false),
    is_lost      = coalesce(r.stage = 'Lost', false),
    is_completed = r.completed,
    is_closed    = r.completed OR coalesce(r.stage = 'Lost', false),
    updated_at   = now()
FROM resolved r
WHERE j.id = r.id
  AND (j.stage IS DISTINCT FROM r.stage OR j.stage_order IS DISTINCT FROM gcc_stage_order(r.stage)
       OR j.is_won IS DISTINCT FROM coalesce(gcc_stage_order(r.stage) BETWEEN 3 AND 6, false)
       OR j.is_completed IS DISTINCT FROM r.completed
       OR j.is_closed IS DISTINCT FROM (r.completed OR coalesce(r.stage = 'Lost', false)))
