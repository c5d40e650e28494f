-- Per stream, its latest load: records dated after that load began (kept, but a clock ahead of
-- ours or a bad record; the stream's high-water mark never passes the load's start).
WITH latest AS (
    SELECT DISTINCT ON (resource) resource, run_id
    FROM jobnimbus_ingestion_log
    WHERE run_id IS NOT NULL
    ORDER BY resource, started_at DESC
)
SELECT g.resource AS stream, l.run_id, sum(g.future_dated)::int AS future_dated,
       max(g.max_date_updated) AS newest, min(g.started_at) AS load_began
FROM latest l
JOIN jobnimbus_ingestion_log g ON g.resource = l.resource AND g.run_id = l.run_id
GROUP BY g.resource, l.run_id
ORDER BY g.resource
