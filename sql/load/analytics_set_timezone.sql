-- The account time zone the analytics views bucket months in; one row back when it changed.
-- `now() AT TIME ZONE` rejects a zone PostgreSQL does not know before anything is stored.
INSERT INTO gcc_settings (key, value)
SELECT 'timezone', %(timezone)s
WHERE (now() AT TIME ZONE %(timezone)s) IS NOT NULL
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
WHERE gcc_settings.value IS DISTINCT FROM EXCLUDED.value
RETURNING value
