INSERT INTO gcc_cursors (name, position, run_id, updated_at)
VALUES (%(name)s, %(position)s, %(run_id)s, now())
ON CONFLICT (name) DO UPDATE
SET position = EXCLUDED.position, run_id = EXCLUDED.run_id, updated_at = now()
