-- Of the ids other rows reference, those {table} lacks (to fetch by id); load.py unites one of
-- these per stream in one statement.
SELECT r.id
FROM unnest({ids}::text[]) AS r(id)
WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = r.id)
