-- The views just refreshed, with what they include (changes read at read_at) and their file.
INSERT INTO gcc_view_refreshes (view_name, refreshed_at, code_version, run_id)
SELECT v, %(read_at)s, c, %(run_id)s
FROM unnest(%(views)s::text[], %(code_versions)s::text[]) AS x(v, c)
ON CONFLICT (view_name) DO UPDATE
SET refreshed_at = EXCLUDED.refreshed_at, code_version = EXCLUDED.code_version,
    run_id = EXCLUDED.run_id
