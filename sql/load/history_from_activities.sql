-- Status history rebuilt from status-change activities landed in the window.
-- Notes read "Status: A => B" or "Status changed from A to B".
WITH moves AS (
    SELECT e.entity_id AS activity_id,
           e.window_at AS changed_at,
           e.payload,
           coalesce(regexp_match(e.payload ->> 'note', '^\s*Status:\s*(.*\S)\s*=>\s*(.*\S)\s*$'),
                    regexp_match(e.payload ->> 'note', '^\s*Status changed from\s+(.*\S)\s+to\s+(.*\S)\s*$'))
               AS m
    FROM jobnimbus_raw_events e
    WHERE e.entity_type = 'activity'
      AND e.window_at >= %(start)s AND e.window_at < %(end)s
      AND e.payload ->> 'is_status_change' = 'true'
), parsed AS (
    SELECT DISTINCT ON (job_id, changed_at, status_name) *
    FROM (
        SELECT coalesce(
                   (SELECT r ->> 'id'
                    FROM jsonb_array_elements(CASE jsonb_typeof(payload -> 'related')
                                                  WHEN 'array' THEN payload -> 'related'
                                                  ELSE '[]'::jsonb END) r
                    WHERE r ->> 'type' = 'job' LIMIT 1),
                   CASE WHEN payload -> 'primary' ->> 'type' = 'job'
                        THEN payload -> 'primary' ->> 'id' END) AS job_id,
               m[1] AS previous_status_name,
               m[2] AS status_name,
               changed_at,
               activity_id
        FROM moves
        WHERE m IS NOT NULL AND changed_at IS NOT NULL
    ) x
    WHERE job_id IS NOT NULL
    ORDER BY job_id, changed_at, status_name, activity_id
)
INSERT INTO job_status_history (job_id, status_name, previous_status_name, changed_at, source, activity_id)
SELECT job_id, status_name, previous_status_name, changed_at, 'activity', activity_id
FROM parsed
ON CONFLICT ON CONSTRAINT job_status_history_once DO NOTHING
