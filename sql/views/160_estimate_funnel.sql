-- analytics.estimate_funnel: the estimate funnel per month sent, rep and job type, counted per
-- job (its versions together; an estimate without a job counts alone), not per document, so
-- re-sent versions do not inflate "sent" or "declined":
--   counts   = active, not archived, not draft, not a test record (its job, else its contact)
--   outcome  = approved when a version's status is Approved/Accepted/Signed (any case); declined
--              when none is approved and none is still open (every version Declined/Rejected:
--              a superseded version is declined by the account); else open
--   sent_month = month of the first version's date_estimate (account time zone)
--   sent_value = the latest version's total; approved_value = the approved version's total
--   days_to_approval = approved version's date_status_change - first version's date_estimate
--   sales_rep_id = the job's rep, else the latest version's, else '(unassigned)'
-- Rows come at three grains (breakdown): per rep and job type, and rolled up per rep and per job
-- type, so the unfiltered funnel reads a few hundred rows a month, not reps x job types.
DROP MATERIALIZED VIEW IF EXISTS analytics.estimate_funnel CASCADE;
CREATE MATERIALIZED VIEW analytics.estimate_funnel AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), est AS (
    SELECT coalesce(e.job_id, e.id) AS unit, e.id, e.job_id, e.sales_rep_id, e.total,
           coalesce(e.date_estimate, e.date_created) AS sent_at, e.date_status_change,
           CASE WHEN lower(e.status_name) IN ('approved', 'accepted', 'signed') THEN 'approved'
                WHEN lower(e.status_name) IN ('declined', 'rejected') THEN 'declined'
                ELSE 'open' END AS outcome
    FROM estimates e
    LEFT JOIN jobs j ON j.id = e.job_id
    LEFT JOIN contacts c ON c.id = e.contact_id
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE
      AND lower(coalesce(e.status_name, '')) <> 'draft'
      AND NOT coalesce(j.is_test, c.is_test, false)
), per_unit AS (
    SELECT unit,
           min(job_id) AS job_id,
           min(sent_at) AS first_sent_at,
           (array_agg(total ORDER BY sent_at DESC, id DESC))[1] AS latest_total,
           (array_agg(sales_rep_id ORDER BY sent_at DESC, id DESC))[1] AS latest_rep,
           min(date_status_change) FILTER (WHERE outcome = 'approved') AS approved_at,
           (array_agg(total ORDER BY date_status_change, id)
               FILTER (WHERE outcome = 'approved'))[1] AS approved_total,
           bool_or(outcome = 'open') AS any_open
    FROM est
    GROUP BY unit
), classified AS (
    SELECT date_trunc('month', u.first_sent_at AT TIME ZONE tz.name)::date AS sent_month,
           coalesce(j.sales_rep_id, u.latest_rep, '(unassigned)') AS sales_rep_id,
           coalesce(j.record_type_name, '(unassigned)') AS record_type_name,
           coalesce(j.is_legacy, false) AS is_legacy,
           u.latest_total, u.approved_total,
           u.approved_at IS NOT NULL AS approved,
           u.approved_at IS NULL AND NOT u.any_open AS declined,
           extract(epoch FROM u.approved_at - u.first_sent_at) / 86400.0 AS days_to_approval
    FROM per_unit u
    CROSS JOIN tz
    LEFT JOIN jobs j ON j.id = u.job_id
)
SELECT CASE WHEN GROUPING(c.record_type_name) = 1 THEN 'rep'
            WHEN GROUPING(c.sales_rep_id) = 1 THEN 'job type'
            ELSE 'rep and job type' END AS breakdown,
       c.sent_month, c.sales_rep_id,
       CASE WHEN GROUPING(c.sales_rep_id) = 0 THEN coalesce(sr.name, c.sales_rep_id) END
           AS sales_rep_name,
       c.record_type_name, c.is_legacy,
       count(*)::integer AS sent,
       coalesce(sum(c.latest_total), 0)::numeric(14,2) AS sent_value,
       count(*) FILTER (WHERE c.approved)::integer AS approved,
       coalesce(sum(c.approved_total) FILTER (WHERE c.approved), 0)::numeric(14,2)
           AS approved_value,
       count(*) FILTER (WHERE c.declined)::integer AS declined,
       coalesce(sum(c.latest_total) FILTER (WHERE c.declined), 0)::numeric(14,2)
           AS declined_value,
       count(*) FILTER (WHERE NOT c.approved AND NOT c.declined)::integer AS open,
       coalesce(sum(c.days_to_approval) FILTER (WHERE c.approved), 0)::numeric(14,4)
           AS days_to_approval_total
FROM classified c
LEFT JOIN sales_reps sr ON sr.id = c.sales_rep_id
GROUP BY c.sent_month, GROUPING SETS ((c.sales_rep_id, sr.name, c.record_type_name, c.is_legacy),
                                      (c.sales_rep_id, sr.name), (c.record_type_name, c.is_legacy))
WITH DATA;
CREATE UNIQUE INDEX estimate_funnel_key ON analytics.estimate_funnel
    (breakdown, sent_month, sales_rep_id, record_type_name, is_legacy);
COMMENT ON MATERIALIZED VIEW analytics.estimate_funnel IS
    'The estimate funnel (sent, approved, declined, open; values and days to approval) per month sent, rep and job type and rolled up per rep and per job type, one unit per job (its versions together).';
COMMENT ON COLUMN analytics.estimate_funnel.breakdown IS 'The grain of the row: rep and job type, or rolled up per rep (record_type_name NULL) or per job type (sales_rep_id NULL).';
COMMENT ON COLUMN analytics.estimate_funnel.sent_month IS 'Month the job''s first estimate was sent (date_estimate, account time zone).';
COMMENT ON COLUMN analytics.estimate_funnel.sales_rep_id IS 'The job''s rep, else the latest estimate''s, else (unassigned).';
COMMENT ON COLUMN analytics.estimate_funnel.sales_rep_name IS 'The rep''s name from account/users, else the id.';
COMMENT ON COLUMN analytics.estimate_funnel.record_type_name IS 'The job type; (unassigned) without a job.';
COMMENT ON COLUMN analytics.estimate_funnel.is_legacy IS 'The job is in the Legacy workflow (NULL on a per-rep row).';
COMMENT ON COLUMN analytics.estimate_funnel.sent IS 'Jobs (or job-less estimates) with an estimate sent.';
COMMENT ON COLUMN analytics.estimate_funnel.sent_value IS 'Their latest versions'' totals.';
COMMENT ON COLUMN analytics.estimate_funnel.approved IS 'Of those, with a version approved.';
COMMENT ON COLUMN analytics.estimate_funnel.approved_value IS 'The approved versions'' totals.';
COMMENT ON COLUMN analytics.estimate_funnel.declined IS 'Of those, every version declined (none approved, none open).';
COMMENT ON COLUMN analytics.estimate_funnel.declined_value IS 'Their latest versions'' totals.';
COMMENT ON COLUMN analytics.estimate_funnel.open IS 'Of those, neither approved nor declined yet.';
COMMENT ON COLUMN analytics.estimate_funnel.days_to_approval_total IS 'Sum over the approved of days from the first version sent to the approval (average = this / approved).';
