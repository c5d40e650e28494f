-- A history build waits for runs landing jobs or activities (same keys as ingest_lock.sql), so
-- no row they commit later can carry a write time before this build's cursor.
SELECT pg_advisory_xact_lock(hashtext('gcc_ingest:jobs')),
       pg_advisory_xact_lock(hashtext('gcc_ingest:activities'))
