-- What the webhook sensor sees: the newest event and the oldest still pending after its cursor.
SELECT max(id), min(id) FILTER (WHERE processed_at IS NULL), count(*) FILTER (WHERE processed_at IS NULL)
FROM jobnimbus_webhook_events
WHERE id > %(after)s
