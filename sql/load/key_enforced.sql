-- Whether a valid primary key or unique constraint covers exactly these columns (then the
-- database itself keeps the key unique and not null, and no scan is needed).
SELECT EXISTS (
    SELECT 1
    FROM pg_constraint c
    WHERE c.conrelid = to_regclass(%(table)s)
      AND c.contype IN ('p', 'u') AND c.convalidated
      AND (SELECT array_agg(a.attname::text ORDER BY a.attname)
           FROM pg_attribute a
           WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))
          = (SELECT array_agg(k ORDER BY k) FROM unnest(%(key)s::text[]) k)
      AND (c.contype = 'p' OR NOT EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND NOT a.attnotnull))
) AS enforced,
(SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%(table)s)) AS estimated_rows
