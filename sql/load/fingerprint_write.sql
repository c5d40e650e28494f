INSERT INTO gcc_fingerprints (name, fingerprint, run_id) VALUES (%(name)s, %(fingerprint)s, %(run_id)s)
ON CONFLICT (name) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, run_id = EXCLUDED.run_id, updated_at = now()
