-- A record marked gone that the API lists again is active again, unless its own payload says
-- it is soft-deleted (is_active: false), which the upsert keeps.
UPDATE {table} t
SET is_active = true, {touched} = now()
FROM stage_api_ids a
WHERE a.id = t.id AND t.is_active = false {source_filter}
  AND coalesce((t.raw ->> 'is_active')::boolean, true)
