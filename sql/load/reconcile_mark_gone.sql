-- Records the API no longer lists are marked inactive, never deleted (history keeps them).
UPDATE {table} t
SET is_active = false, {touched} = now()
WHERE t.is_active IS NOT FALSE {source_filter}
  AND NOT EXISTS (SELECT 1 FROM stage_api_ids a WHERE a.id = t.id)
