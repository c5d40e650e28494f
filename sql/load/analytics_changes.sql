-- What changed and when each view was refreshed, read once every load and history build in
-- progress has committed (their advisory locks), so nothing they change can carry a time before
-- the moment returned here; a build that starts later marks its changes after it.
SELECT pg_advisory_xact_lock(hashtext('gcc_ingest:' || r)) FROM unnest(%(streams)s::text[]) AS r;
SELECT pg_advisory_xact_lock(hashtext('gcc_history'));
SELECT 'table' AS kind, table_name AS name, changed_at AS at, NULL AS code_version, clock_timestamp() AS read_at
FROM gcc_table_changes
UNION ALL
SELECT 'view', view_name, refreshed_at, code_version, clock_timestamp() FROM gcc_view_refreshes
UNION ALL
SELECT 'now', '', NULL, NULL, clock_timestamp();
