-- The records a webhook run fetches: each (type, jnid) once, and whether its latest event in the
-- range says it was deleted (only the API's answer marks it gone).
SELECT DISTINCT ON (entity_type, jnid) entity_type, jnid, coalesce(event = 'deleted', false)
FROM jobnimbus_webhook_events
WHERE id > %(after)s AND id <= %(through)s AND jnid IS NOT NULL AND entity_type IS NOT NULL
ORDER BY entity_type, jnid, id DESC
