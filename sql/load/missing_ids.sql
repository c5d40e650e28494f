-- Of the ids other rows reference, those {table} lacks (to fetch by id).
SELECT r.id
FROM unnest(%(ids)s::text[]) AS r(id)
WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = r.id)
ORDER BY r.id
