-- JobNimbus webhooks as received: a webhook is a hint (the API is the truth), kept durably so
-- that an acknowledged delivery is never lost; the webhook sensor reads them by id (its cursor)
-- and a run fetches the named records from the API. The shared secret is never stored.
CREATE TABLE IF NOT EXISTS jobnimbus_webhook_events (
    id           bigserial PRIMARY KEY,
    entity_type  text,
    jnid         text,
    event        text CHECK (event IN ('created', 'modified', 'deleted')),
    received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    body         jsonb NOT NULL,
    dedupe_key   text NOT NULL,
    processed_at timestamptz,
    run_id       text
);
CREATE UNIQUE INDEX IF NOT EXISTS jobnimbus_webhook_events_once
    ON jobnimbus_webhook_events (dedupe_key);
CREATE INDEX IF NOT EXISTS jobnimbus_webhook_events_pending
    ON jobnimbus_webhook_events (id) WHERE processed_at IS NULL;

COMMENT ON TABLE jobnimbus_webhook_events IS
    'JobNimbus webhooks as received (committed before the 2xx answer); the webhook sensor requests a run that fetches the named records from the API. A duplicate delivery (same record, event and body) is stored once.';
COMMENT ON COLUMN jobnimbus_webhook_events.id IS 'Order of arrival; the webhook sensor''s cursor.';
COMMENT ON COLUMN jobnimbus_webhook_events.entity_type IS 'The record''s type (job, contact, payment, workorder, materialorder, activity, task, ...) as the body or the URL''s type parameter named it; NULL when neither did.';
COMMENT ON COLUMN jobnimbus_webhook_events.jnid IS 'The record''s jnid from the body; NULL when the body has none (kept, nothing to fetch).';
COMMENT ON COLUMN jobnimbus_webhook_events.event IS 'created, modified or deleted when the automation said so (URL parameter event, or the body''s event/action field); NULL when unknown.';
COMMENT ON COLUMN jobnimbus_webhook_events.received_at IS 'When the receiver committed it.';
COMMENT ON COLUMN jobnimbus_webhook_events.body IS 'The record as posted (unwrapped from a body envelope): a hint only, never landed as the record.';
COMMENT ON COLUMN jobnimbus_webhook_events.dedupe_key IS 'SHA-256 of type, jnid, event and the body: a repeated delivery changes nothing.';
COMMENT ON COLUMN jobnimbus_webhook_events.processed_at IS 'When a run fetched the record it names from the API (NULL: pending).';
COMMENT ON COLUMN jobnimbus_webhook_events.run_id IS 'The Dagster run that processed it.';
