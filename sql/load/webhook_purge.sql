-- Events processed long ago: their records have landed (and the poll has passed since); a
-- delivery repeated after this is simply fetched again.
DELETE FROM jobnimbus_webhook_events
WHERE processed_at < now() - make_interval(days => %(keep_days)s)
