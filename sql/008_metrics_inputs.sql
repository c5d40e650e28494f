-- What the corrected metrics (issue 12) need from the tables, plus one-off fixes of rows stored
-- under the old parsing rules (each a no-op on an empty or already fixed warehouse).

-- Status ids of status-change activities, when the payload has them: a rename keeps the id, so
-- an old activity whose note spells an old name still resolves to a stage.
ALTER TABLE jobnimbus_status_changes
    ADD COLUMN IF NOT EXISTS status_id integer,
    ADD COLUMN IF NOT EXISTS previous_status_id integer;

-- Refunds: the refund's reference (refunded_amount was already stored).
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refund_id text;

-- Jobs: completed (Paid & Closed, or a status of the Completed stage) and first entry into Lost.
ALTER TABLE jobs
    ADD COLUMN IF NOT EXISTS is_completed boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS date_lost timestamptz;

-- History: each job's first status at its creation (source 'created'), one row per job that a
-- later-arriving first change corrects (upsert on this partial unique index).
ALTER TABLE job_status_history DROP CONSTRAINT IF EXISTS job_status_history_source_check;
ALTER TABLE job_status_history ADD CONSTRAINT job_status_history_source_check
    CHECK (source IN ('activity', 'poll', 'created'));
CREATE UNIQUE INDEX IF NOT EXISTS job_status_history_created_once
    ON job_status_history (job_id) WHERE source = 'created';

-- Lookup: an alias row (an old status name, `alias_of` the current one) has the current name's
-- stage; rows are also found by status id within a record type (for renamed names).
ALTER TABLE workflow_status_lookup ADD COLUMN IF NOT EXISTS alias_of text;
CREATE INDEX IF NOT EXISTS workflow_status_lookup_id_idx
    ON workflow_status_lookup (record_type_id, status_id);

-- These helpers call built-in functions only: PostgreSQL 17+ refreshes materialized views with
-- search_path = pg_catalog, so a helper calling another helper unqualified would fail there.

-- A job is completed in Paid & Closed or in a status of the Completed stage (the data
-- dictionary's is_completed: 'Paid & Closed', 'Request Review'); closed = completed or Lost.
CREATE OR REPLACE FUNCTION gcc_is_completed(stage text, status_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(stage = 'Completed', false)
      OR coalesce(lower(regexp_replace(btrim(status_name), '\s+', ' ', 'g')) = 'paid & closed', false)
$$;

-- An expense is a cost unless it is a material order still in draft or cancelled.
CREATE OR REPLACE FUNCTION gcc_is_cost(source_entity text, status_name text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT NOT (coalesce(source_entity = 'materialorder', false)
              AND coalesce(lower(btrim(status_name)) IN ('draft', 'cancelled', 'canceled'), false))
$$;

-- The owners' test records: "jane tester" anywhere in a name, any case and spacing.
CREATE OR REPLACE FUNCTION gcc_is_test_name(name text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(name ~* 'jane\s*tester', false)
$$;

-- One-off fixes of rows parsed before these rules.
UPDATE jobs SET is_test = true
WHERE NOT is_test AND (gcc_is_test_name(name) OR gcc_is_test_name(raw #>> '{primary,name}'));
UPDATE contacts SET is_test = true
WHERE NOT is_test AND (gcc_is_test_name(display_name)
                       OR gcc_is_test_name(concat_ws(' ', first_name, last_name)));
UPDATE jobs SET is_completed = gcc_is_completed(stage, status_name),
                is_closed = gcc_is_completed(stage, status_name) OR coalesce(stage = 'Lost', false)
WHERE is_completed IS DISTINCT FROM gcc_is_completed(stage, status_name)
   OR is_closed IS DISTINCT FROM (gcc_is_completed(stage, status_name) OR coalesce(stage = 'Lost', false));
UPDATE payments SET invoice_id = coalesce(raw #>> '{invoices,0,invoice_id}', invoice_id),
                    refund_id = raw ->> 'refund_id'
WHERE raw IS NOT NULL
  AND (invoice_id IS DISTINCT FROM coalesce(raw #>> '{invoices,0,invoice_id}', invoice_id)
       OR refund_id IS DISTINCT FROM raw ->> 'refund_id');
-- Status changes of contacts (primary not a job) are not job history; multi-line notes keep
-- only their first line.
DELETE FROM job_status_history h
USING jobnimbus_raw_events r
WHERE h.source = 'activity' AND h.stage IS NULL
  AND r.entity_type = 'activity' AND r.entity_id = h.activity_id
  AND r.payload #>> '{primary,type}' IS DISTINCT FROM 'job';
DELETE FROM jobnimbus_status_changes c
USING jobnimbus_raw_events r
WHERE r.entity_type = 'activity' AND r.entity_id = c.id
  AND r.payload #>> '{primary,type}' IS DISTINCT FROM 'job';
UPDATE jobnimbus_status_changes SET status_name = btrim(split_part(status_name, E'\n', 1), E' \t\r')
WHERE status_name ~ '[\r\n]';
DELETE FROM job_status_history h
WHERE h.status_name ~ '[\r\n]'
  AND EXISTS (SELECT 1 FROM job_status_history o
              WHERE o.job_id = h.job_id AND o.changed_at = h.changed_at
                AND o.status_name = btrim(split_part(h.status_name, E'\n', 1), E' \t\r'));
UPDATE job_status_history SET status_name = btrim(split_part(status_name, E'\n', 1), E' \t\r'),
                              stage = NULL
WHERE status_name ~ '[\r\n]';
