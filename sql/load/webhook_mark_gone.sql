-- Records a deleted-record webhook named and the API no longer lists: inactive, never deleted.
UPDATE {table} t
SET is_active = false, {touched} = now()
WHERE t.id = ANY(%(ids)s) AND t.is_active IS NOT FALSE {source_filter}
