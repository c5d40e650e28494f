-- Tables (of the given names) whose planner statistics a load has outdated, by autovacuum's own
-- rule: never analyzed, or more rows modified since than a tenth of the table. Autovacuum analyzes
-- them in its own time, which can come after the view refresh that follows a bulk load, and a
-- plan made without statistics can be quadratic (a 200,000-job first load: jobs_current took
-- over 17 minutes, against seconds once analyzed).
SELECT relname
FROM pg_stat_user_tables
WHERE schemaname = 'public'
  AND relname = ANY(%(tables)s)
  AND (coalesce(last_analyze, last_autoanalyze) IS NULL
       OR n_mod_since_analyze > 50 + 0.1 * n_live_tup)
ORDER BY relname
