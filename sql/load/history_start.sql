-- A history build waits for runs landing jobs or activities (same keys as ingest_lock.sql), so
-- no row they commit later can carry a write time before this build's cursor, and holds the
-- history key the analytics step reads its change markers under. Then: the build's moment, its
-- two cursors and the rows so far, in the same round trip.
SELECT pg_advisory_xact_lock(hashtext('gcc_ingest:jobs')),
       pg_advisory_xact_lock(hashtext('gcc_ingest:activities')),
       pg_advisory_xact_lock(hashtext('gcc_history'));
SELECT now(),
       (SELECT position FROM gcc_cursors WHERE name = %(changes_cursor)s),
       (SELECT position FROM gcc_cursors WHERE name = %(jobs_cursor)s),
       (SELECT count(*) FROM job_status_history)
