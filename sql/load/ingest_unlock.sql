-- Releases the locks taken by ingest_lock (true for each this session held).
SELECT pg_advisory_unlock(hashtext('gcc_ingest:' || r))
FROM unnest(%(resources)s::text[]) AS r
