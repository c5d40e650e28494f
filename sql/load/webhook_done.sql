-- The events of a webhook run's range, processed (a later run over the same range finds none).
UPDATE jobnimbus_webhook_events
SET processed_at = clock_timestamp(), run_id = %(run_id)s
WHERE id > %(after)s AND id <= %(through)s AND processed_at IS NULL
