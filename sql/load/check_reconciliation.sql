-- Every entity a run landed raw is normalized or quarantined. {table} is an identifier composed
-- with psycopg2.sql from the stream registry.
WITH landed AS (
    SELECT DISTINCT entity_type, entity_id
    FROM jobnimbus_raw_events
    WHERE entity_type = ANY (%(entity_types)s::text[]) AND run_id = %(run_id)s
), classified AS (
    SELECT l.entity_id,
           EXISTS (SELECT 1 FROM {table} t WHERE t.id = l.entity_id) AS normalized,
           EXISTS (SELECT 1 FROM jobnimbus_quarantine q
                   WHERE q.entity_type = l.entity_type AND q.entity_id = l.entity_id) AS quarantined
    FROM landed l
)
SELECT count(*) AS raw,
       count(*) FILTER (WHERE normalized) AS normalized,
       count(*) FILTER (WHERE quarantined AND NOT normalized) AS quarantined,
       count(*) FILTER (WHERE NOT normalized AND NOT quarantined) AS missing,
       coalesce((array_agg(entity_id ORDER BY entity_id)
                 FILTER (WHERE NOT normalized AND NOT quarantined))[1:%(examples)s], '{{}}')
           AS examples
FROM classified
