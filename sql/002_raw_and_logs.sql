-- Every payload fetched, unmodified; the same payload fetched twice is stored once.
CREATE TABLE IF NOT EXISTS jobnimbus_raw_events (
    id            bigserial PRIMARY KEY,
    entity_type   text        NOT NULL,            -- contact, job, payment, workorder, materialorder, activity
    entity_id     text        NOT NULL,            -- jnid ('' when missing, hashed when absurdly long)
    payload       jsonb       NOT NULL,
    payload_hash  text        NOT NULL,            -- md5 of the canonical JSON text
    date_updated  timestamptz,                     -- the record's own date_updated (NULL when 0/absent)
    window_at     timestamptz,                     -- the time the fetch window was cut on (activities: date_created)
    received_at   timestamptz NOT NULL DEFAULT now(),
    run_id        text,
    partition_key text,
    CONSTRAINT jobnimbus_raw_events_payload_once UNIQUE (entity_type, entity_id, payload_hash)
);
CREATE INDEX IF NOT EXISTS jobnimbus_raw_events_window_idx ON jobnimbus_raw_events (entity_type, window_at);
CREATE INDEX IF NOT EXISTS jobnimbus_raw_events_entity_idx ON jobnimbus_raw_events (entity_type, entity_id, date_updated DESC);

-- Records that could not be normalized, with the reason; nothing is silently dropped.
CREATE TABLE IF NOT EXISTS jobnimbus_quarantine (
    id              bigserial PRIMARY KEY,
    entity_type     text        NOT NULL,
    entity_id       text,                          -- the raw id as received (cut to 200 characters)
    raw_event_id    bigint,                        -- jobnimbus_raw_events.id when the payload could be stored
    payload_hash    text        NOT NULL,
    reason          text        NOT NULL,
    payload_excerpt text,                          -- when the payload itself could not be stored as jsonb
    run_id          text,
    partition_key   text,
    quarantined_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobnimbus_quarantine_once UNIQUE (entity_type, payload_hash, reason)
);
CREATE INDEX IF NOT EXISTS jobnimbus_quarantine_entity_idx ON jobnimbus_quarantine (entity_type, quarantined_at);

-- Windows fetched, cursors and counts, per run and resource.
CREATE TABLE IF NOT EXISTS jobnimbus_ingestion_log (
    id            bigserial PRIMARY KEY,
    run_id        text,
    partition_key text,
    resource      text        NOT NULL,
    window_start  timestamptz,
    window_end    timestamptz,
    requests      integer     NOT NULL DEFAULT 0,
    retries       integer     NOT NULL DEFAULT 0,
    fetched       integer     NOT NULL DEFAULT 0,
    raw_inserted  integer     NOT NULL DEFAULT 0,
    inserted      integer     NOT NULL DEFAULT 0,
    updated       integer     NOT NULL DEFAULT 0,
    unchanged     integer     NOT NULL DEFAULT 0,
    quarantined   integer     NOT NULL DEFAULT 0,
    max_date_updated timestamptz,                  -- the resource's cursor after this fetch
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX IF NOT EXISTS jobnimbus_ingestion_log_resource_idx ON jobnimbus_ingestion_log (resource, started_at DESC);
