-- The reps have read account/users and the records as of now: their cursor (see
-- gcc_pipeline/assets/downstream.py), then how many there are, in the same round trip.
INSERT INTO gcc_cursors (name, position, run_id, updated_at)
VALUES ('sales_reps', now(), %(run_id)s, now())
ON CONFLICT (name) DO UPDATE
SET position = EXCLUDED.position, run_id = EXCLUDED.run_id, updated_at = now();
SELECT count(*), count(*) FILTER (WHERE source = 'records') FROM sales_reps
