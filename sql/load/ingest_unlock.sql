-- Releases the lock taken by ingest_lock (true when this session held it).
SELECT pg_advisory_unlock(hashtext('gcc_ingest:' || %(resource)s))
