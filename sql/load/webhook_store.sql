-- One received webhook; a repeated delivery (same dedupe key) changes nothing. Returns the
-- event's id when it is new.
INSERT INTO jobnimbus_webhook_events (entity_type, jnid, event, body, dedupe_key)
VALUES (%(entity_type)s, %(jnid)s, %(event)s, %(body)s::jsonb, %(dedupe_key)s)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
