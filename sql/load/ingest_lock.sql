-- Two runs landing the same resource take turns: a session-level advisory lock per resource,
-- held from the first page fetched to the ingestion log row, released by ingest_unlock (or by
-- the server when the session ends, e.g. the run's process was killed).
SELECT pg_advisory_lock(hashtext('gcc_ingest:' || %(resource)s))
