-- What the webhook sensor sees: the newest event, and the oldest and number still pending (the
-- partial index on pending ids keeps this cheap however many events were processed).
SELECT (SELECT max(id) FROM jobnimbus_webhook_events),
       (SELECT min(id) FROM jobnimbus_webhook_events WHERE processed_at IS NULL),
       (SELECT count(*) FROM jobnimbus_webhook_events WHERE processed_at IS NULL)
