-- analytics.jobs_missing_fields: live jobs (active, not archived, not a test record; legacy
-- included) missing a field the owners require: no sales rep, no source of its own
-- (source_name; the contact's source does not fill it), no primary contact, no address
-- (address_line1). One row per such job with a flag per field, and on every row the counts
-- over all of them (computed at the refresh, so the list query reads only its page).
DROP MATERIALIZED VIEW IF EXISTS analytics.jobs_missing_fields CASCADE;
CREATE MATERIALIZED VIEW analytics.jobs_missing_fields AS
WITH missing AS (
    SELECT j.id AS job_id, j.number, j.name,
           coalesce(j.record_type_name, '(unassigned)') AS record_type_name,
           coalesce(j.stage, '(unmapped)') AS stage,
           j.status_name, j.date_created,
           j.sales_rep_id IS NULL AS missing_rep,
           j.source_name IS NULL AS missing_source,
           j.primary_contact_id IS NULL AS missing_contact,
           j.address_line1 IS NULL AS missing_address,
           ((j.sales_rep_id IS NULL)::int + (j.source_name IS NULL)::int
            + (j.primary_contact_id IS NULL)::int + (j.address_line1 IS NULL)::int) AS missing_count
    FROM jobs j
    WHERE j.is_active IS NOT FALSE AND j.is_archived IS NOT TRUE AND NOT j.is_test
      AND (j.sales_rep_id IS NULL OR j.source_name IS NULL OR j.primary_contact_id IS NULL
           OR j.address_line1 IS NULL)
)
SELECT m.*,
       count(*) OVER ()::integer AS jobs_missing_any,
       (count(*) FILTER (WHERE missing_rep) OVER ())::integer AS jobs_missing_rep,
       (count(*) FILTER (WHERE missing_source) OVER ())::integer AS jobs_missing_source,
       (count(*) FILTER (WHERE missing_contact) OVER ())::integer AS jobs_missing_contact,
       (count(*) FILTER (WHERE missing_address) OVER ())::integer AS jobs_missing_address
FROM missing m
WITH DATA;
CREATE UNIQUE INDEX jobs_missing_fields_key ON analytics.jobs_missing_fields (job_id);
CREATE INDEX jobs_missing_fields_order_idx
    ON analytics.jobs_missing_fields (missing_count DESC, date_created, job_id);
COMMENT ON MATERIALIZED VIEW analytics.jobs_missing_fields IS
    'Live jobs missing a required field (sales rep, own source, primary contact, address), one flag per field.';
COMMENT ON COLUMN analytics.jobs_missing_fields.job_id IS 'The job.';
COMMENT ON COLUMN analytics.jobs_missing_fields.number IS 'The job number.';
COMMENT ON COLUMN analytics.jobs_missing_fields.name IS 'The job name.';
COMMENT ON COLUMN analytics.jobs_missing_fields.record_type_name IS 'The job type.';
COMMENT ON COLUMN analytics.jobs_missing_fields.stage IS 'Its current stage ((unmapped) without one).';
COMMENT ON COLUMN analytics.jobs_missing_fields.status_name IS 'Its current status.';
COMMENT ON COLUMN analytics.jobs_missing_fields.date_created IS 'When the job was created.';
COMMENT ON COLUMN analytics.jobs_missing_fields.missing_rep IS 'No sales rep.';
COMMENT ON COLUMN analytics.jobs_missing_fields.missing_source IS 'No source of its own (source_name).';
COMMENT ON COLUMN analytics.jobs_missing_fields.missing_contact IS 'No primary contact.';
COMMENT ON COLUMN analytics.jobs_missing_fields.missing_address IS 'No address (address_line1).';
COMMENT ON COLUMN analytics.jobs_missing_fields.missing_count IS 'How many of the four are missing.';
COMMENT ON COLUMN analytics.jobs_missing_fields.jobs_missing_any IS 'Jobs in this view (missing any field), the same on every row.';
COMMENT ON COLUMN analytics.jobs_missing_fields.jobs_missing_rep IS 'Of them, without a sales rep.';
COMMENT ON COLUMN analytics.jobs_missing_fields.jobs_missing_source IS 'Of them, without a source of their own.';
COMMENT ON COLUMN analytics.jobs_missing_fields.jobs_missing_contact IS 'Of them, without a primary contact.';
COMMENT ON COLUMN analytics.jobs_missing_fields.jobs_missing_address IS 'Of them, without an address.';
