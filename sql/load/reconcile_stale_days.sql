-- Days (account time zone) holding records the API has that the table lacks or holds older.
-- {table}, {version} and {source_filter} are composed with psycopg2.sql identifiers.
SELECT DISTINCT (a.date_updated AT TIME ZONE %(tz)s)::date AS day
FROM stage_api_ids a
LEFT JOIN {table} t ON t.id = a.id
WHERE a.date_updated IS NOT NULL
  AND (t.id IS NULL OR a.date_updated > coalesce(t.{version}, '-infinity'))
  AND NOT EXISTS (SELECT 1 FROM jobnimbus_quarantine q
                  WHERE q.entity_type = %(entity_type)s AND q.entity_id = a.id)
ORDER BY 1
