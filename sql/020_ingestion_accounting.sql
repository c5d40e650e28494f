-- Every fetched record accounted for in the ingestion log: kept raw only (a plain note, a repeat
-- within a page) and dated after its load began (an API clock ahead of ours). A window with NULL
-- bounds is a fetch by id (records other rows referenced).
ALTER TABLE jobnimbus_ingestion_log
    ADD COLUMN IF NOT EXISTS skipped      integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS future_dated integer NOT NULL DEFAULT 0;
