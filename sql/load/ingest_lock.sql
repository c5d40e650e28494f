-- Two runs landing the same resource take turns: a session-level advisory lock per resource,
-- held from the first page fetched to the ingestion log row, released by ingest_unlock (or by
-- the server when the session ends, e.g. the run's process was killed). The resources are
-- locked one after the other in the array's (the registry's) order, so two runs never deadlock.
SELECT pg_advisory_lock(hashtext('gcc_ingest:' || r))
FROM unnest(%(resources)s::text[]) AS r
