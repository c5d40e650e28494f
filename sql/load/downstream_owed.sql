-- What the steps after a load may still owe from earlier runs, in one round trip: when each
-- table last changed and by which run, where the incremental readers stand (the history build's
-- cursors, the sales reps' last refresh) and which run moved them, when each view was refreshed
-- and from which file, the stored account time zone, and the database's now.
SELECT 'table' AS kind, table_name AS name, changed_at AS at, run_id AS detail
FROM gcc_table_changes
UNION ALL
SELECT 'cursor', name, position, run_id FROM gcc_cursors
UNION ALL
SELECT 'view', view_name, refreshed_at, code_version FROM gcc_view_refreshes
UNION ALL
SELECT 'timezone', value, NULL, NULL FROM gcc_settings WHERE key = 'timezone'
UNION ALL
SELECT 'now', '', now(), NULL
