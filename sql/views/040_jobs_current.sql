-- analytics.jobs_current: one row per live job (active, not archived, not a test record; legacy
-- included, see is_legacy) as it stands now: stage and when it entered it, rep, source, values,
-- money, outcome dates and the time it spent in each funnel stage. The per-job fact the pipeline,
-- rep and job-type views aggregate, and the drill-down (stalled jobs, receivables, production).
--   stage            = from the mapping by record type and status name; '(unmapped)' without one
--   stage_entered_at = the first history row of the job's current run in its stage (history rows
--                      without a stage skipped, consecutive rows of one stage are one run); the
--                      last status change (else creation) when history does not end in the stage
--   (days in the current stage = now() - stage_entered_at, computed by the query: a view column
--   would go stale between refreshes and make two refreshes of the same data differ)
--   is_open          = in Lead .. Accounts Receivable and not completed
--   is_won           = reached Sold or a later funnel stage (date_sold); is_lost = in Lost and
--                      never sold; win_rate = won / (won + lost); lead_to_sold_rate = won / jobs
--   days_to_close    = date_sold - date_created, in days (the PRD's "days to close")
--   pipeline_value   = approved_estimate_total when in Estimating, Sold or In Production, else 0
--   revenue          = the job's payments in analytics.revenue_payments; expenses = its costs:
--                      active, not archived work and material orders, not draft or cancelled
--                      material orders (gcc_is_cost)
--   outstanding_receivable = approved_invoice_total - revenue (negative: paid beyond invoices)
--   days_in_<stage>, left_<stage> = days spent in that stage over the visits that ended, and
--                      how many visits ended (average days in a stage = sum of days / sum of left)
DROP MATERIALIZED VIEW IF EXISTS analytics.jobs_current CASCADE;
CREATE MATERIALIZED VIEW analytics.jobs_current AS
WITH tz AS (
    SELECT coalesce((SELECT value FROM gcc_settings WHERE key = 'timezone'), 'UTC') AS name
), live AS (
    -- the columns used, not j.*: the raw payload would be detoasted and copied for every job
    SELECT j.id, j.number, j.name, j.record_type_id, j.record_type_name, j.is_legacy,
           j.status_name, j.stage, j.stage_order, j.sales_rep_id, j.sales_rep_name, j.source_name,
           j.primary_contact_id, j.date_created, j.date_status_change, j.date_sold, j.date_lost,
           j.date_completed, j.is_completed, j.is_closed, j.approved_estimate_total,
           j.approved_invoice_total
    FROM jobs j
    WHERE j.is_active IS NOT FALSE AND j.is_archived IS NOT TRUE AND NOT j.is_test
), staged AS (
    SELECT h.job_id, h.stage, h.changed_at, h.id,
           lag(h.stage) OVER (PARTITION BY h.job_id ORDER BY h.changed_at, h.id) AS prev_stage
    FROM job_status_history h
    JOIN live l ON l.id = h.job_id
    WHERE h.stage IS NOT NULL
), entries AS (
    SELECT job_id, stage, changed_at,
           lead(changed_at) OVER (PARTITION BY job_id ORDER BY changed_at, id) AS left_at
    FROM staged
    WHERE prev_stage IS DISTINCT FROM stage
), per_job AS (
    -- the last entry is the one never left (one ordering of history, one sort)
    SELECT job_id,
           max(changed_at) FILTER (WHERE left_at IS NULL) AS last_entry_at,
           max(stage) FILTER (WHERE left_at IS NULL) AS last_entry_stage,
           sum(extract(epoch FROM left_at - changed_at) / 86400.0)
               FILTER (WHERE stage = 'Lead' AND left_at IS NOT NULL) AS days_in_lead,
           count(*) FILTER (WHERE stage = 'Lead' AND left_at IS NOT NULL) AS left_lead,
           sum(extract(epoch FROM left_at - changed_at) / 86400.0)
               FILTER (WHERE stage = 'Estimating' AND left_at IS NOT NULL) AS days_in_estimating,
           count(*) FILTER (WHERE stage = 'Estimating' AND left_at IS NOT NULL) AS left_estimating,
           sum(extract(epoch FROM left_at - changed_at) / 86400.0)
               FILTER (WHERE stage = 'Sold' AND left_at IS NOT NULL) AS days_in_sold,
           count(*) FILTER (WHERE stage = 'Sold' AND left_at IS NOT NULL) AS left_sold,
           sum(extract(epoch FROM left_at - changed_at) / 86400.0)
               FILTER (WHERE stage = 'In Production' AND left_at IS NOT NULL) AS days_in_production,
           count(*) FILTER (WHERE stage = 'In Production' AND left_at IS NOT NULL) AS left_production,
           sum(extract(epoch FROM left_at - changed_at) / 86400.0)
               FILTER (WHERE stage = 'Accounts Receivable' AND left_at IS NOT NULL)
               AS days_in_receivable,
           count(*) FILTER (WHERE stage = 'Accounts Receivable' AND left_at IS NOT NULL)
               AS left_receivable
    FROM entries
    GROUP BY job_id
), money AS (
    SELECT job_id, sum(revenue) AS revenue
    FROM analytics.revenue_payments
    WHERE job_id IS NOT NULL
    GROUP BY job_id
), costs AS (
    SELECT e.job_id, sum(coalesce(e.amount, 0)) AS expenses,
           bool_or(e.expense_type = 'subcontractor') AS has_subcontractor
    FROM expenses e
    WHERE e.is_active IS NOT FALSE AND e.is_archived IS NOT TRUE AND e.job_id IS NOT NULL
      AND gcc_is_cost(e.source_entity, e.status_name)
    GROUP BY e.job_id
), job_now AS (
    SELECT l.*,
           CASE WHEN pj.last_entry_stage = l.stage THEN pj.last_entry_at
                ELSE coalesce(l.date_status_change, l.date_created) END AS entered_at,
           coalesce(l.stage IN ('Lead', 'Estimating', 'Sold', 'In Production',
                                'Accounts Receivable'), false)
               AND NOT l.is_completed AS open,
           coalesce(m.revenue, 0)::numeric(14,2) AS job_revenue,
           coalesce(c.expenses, 0)::numeric(14,2) AS job_expenses,
           coalesce(c.has_subcontractor, false) AS subcontracted,
           pj.days_in_lead, pj.left_lead, pj.days_in_estimating, pj.left_estimating,
           pj.days_in_sold, pj.left_sold, pj.days_in_production, pj.left_production,
           pj.days_in_receivable, pj.left_receivable
    FROM live l
    LEFT JOIN per_job pj ON pj.job_id = l.id
    LEFT JOIN money m ON m.job_id = l.id
    LEFT JOIN costs c ON c.job_id = l.id
)
SELECT cu.id AS job_id,
       cu.number,
       cu.name,
       cu.record_type_id,
       coalesce(cu.record_type_name, '(unassigned)') AS record_type_name,
       cu.is_legacy,
       cu.status_name,
       coalesce(cu.stage, '(unmapped)') AS stage,
       cu.stage_order,
       cu.entered_at AS stage_entered_at,
       cu.open AS is_open,
       coalesce(cu.sales_rep_id, '(unassigned)') AS sales_rep_id,
       coalesce(sr.name, cu.sales_rep_name, cu.sales_rep_id, '(unassigned)') AS sales_rep_name,
       coalesce(cu.source_name, pc.lead_source, '(unassigned)') AS lead_source,
       cu.primary_contact_id,
       cu.date_created,
       date_trunc('month', cu.date_created AT TIME ZONE tz.name)::date AS created_month,
       cu.date_sold,
       date_trunc('month', cu.date_sold AT TIME ZONE tz.name)::date AS sold_month,
       cu.date_lost,
       cu.date_completed,
       cu.date_sold IS NOT NULL AS is_won,
       coalesce(cu.stage = 'Lost', false) AND cu.date_sold IS NULL AS is_lost,
       cu.is_completed,
       cu.is_closed,
       round(extract(epoch FROM cu.date_sold - cu.date_created) / 86400.0, 4) AS days_to_close,
       cu.approved_estimate_total,
       cu.approved_invoice_total,
       CASE WHEN cu.stage IN ('Estimating', 'Sold', 'In Production')
            THEN coalesce(cu.approved_estimate_total, 0) ELSE 0 END::numeric(14,2)
           AS pipeline_value,
       cu.job_revenue AS revenue,
       cu.job_expenses AS expenses,
       (cu.job_revenue - cu.job_expenses)::numeric(14,2) AS gross_profit,
       round((cu.job_revenue - cu.job_expenses) / nullif(cu.job_revenue, 0), 4) AS gross_margin,
       (coalesce(cu.approved_invoice_total, 0) - cu.job_revenue)::numeric(14,2)
           AS outstanding_receivable,
       cu.subcontracted AS has_subcontractor,
       cu.days_in_lead, coalesce(cu.left_lead, 0)::integer AS left_lead,
       cu.days_in_estimating, coalesce(cu.left_estimating, 0)::integer AS left_estimating,
       cu.days_in_sold, coalesce(cu.left_sold, 0)::integer AS left_sold,
       cu.days_in_production, coalesce(cu.left_production, 0)::integer AS left_production,
       cu.days_in_receivable, coalesce(cu.left_receivable, 0)::integer AS left_receivable
FROM job_now cu
CROSS JOIN tz
LEFT JOIN sales_reps sr ON sr.id = cu.sales_rep_id
LEFT JOIN contacts pc ON pc.id = cu.primary_contact_id
WITH DATA;
CREATE UNIQUE INDEX jobs_current_key ON analytics.jobs_current (job_id);
CREATE INDEX jobs_current_rep_idx ON analytics.jobs_current (sales_rep_id, stage_order);
CREATE INDEX jobs_current_source_idx ON analytics.jobs_current (lead_source);
CREATE INDEX jobs_current_created_idx ON analytics.jobs_current (date_created);
CREATE INDEX jobs_current_open_entered_idx ON analytics.jobs_current (stage_entered_at)
    WHERE is_open;
CREATE INDEX jobs_current_open_rep_idx ON analytics.jobs_current (sales_rep_id, stage_entered_at)
    WHERE is_open;
CREATE INDEX jobs_current_stage_idx ON analytics.jobs_current (stage, stage_entered_at);
CREATE INDEX jobs_current_receivable_idx ON analytics.jobs_current (outstanding_receivable DESC)
    WHERE outstanding_receivable > 0;
CREATE INDEX jobs_current_subcontracted_idx ON analytics.jobs_current (stage_order, job_id)
    WHERE has_subcontractor AND is_open;

COMMENT ON MATERIALIZED VIEW analytics.jobs_current IS
    'One row per live job (active, not archived, not a test record; legacy included) as it stands at the refresh: stage and when it entered it, rep, source, outcome dates, pipeline value, money and days per funnel stage. The per-job fact the pipeline, rep and job-type views aggregate, and the drill-down.';
COMMENT ON COLUMN analytics.jobs_current.job_id IS 'The job (jobs.id, its jnid).';
COMMENT ON COLUMN analytics.jobs_current.number IS 'The job number shown in JobNimbus.';
COMMENT ON COLUMN analytics.jobs_current.name IS 'The job''s name.';
COMMENT ON COLUMN analytics.jobs_current.record_type_id IS 'Id of the job''s type (workflow) in the account.';
COMMENT ON COLUMN analytics.jobs_current.record_type_name IS 'The job''s type (workflow); ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.jobs_current.is_legacy IS 'The job is of the Legacy (Bob''s Workflow) type: in every figure, filter on it to leave legacy out.';
COMMENT ON COLUMN analytics.jobs_current.status_name IS 'The job''s current status, as JobNimbus names it.';
COMMENT ON COLUMN analytics.jobs_current.stage IS 'Stage of the current status in the mapping (by record type and status name); ''(unmapped)'' without one.';
COMMENT ON COLUMN analytics.jobs_current.stage_order IS 'Funnel order of the stage: Lead 1 .. Completed 6, Lost 7, None 8; NULL when unmapped.';
COMMENT ON COLUMN analytics.jobs_current.stage_entered_at IS 'When the job entered its current stage: the first history row of its current run in the stage (rows without a stage skipped), else its last status change (else creation). Days in stage = now - this, computed by the query.';
COMMENT ON COLUMN analytics.jobs_current.is_open IS 'In Lead .. Accounts Receivable and not completed. Stalled = open and stage_entered_at more than 30 days ago.';
COMMENT ON COLUMN analytics.jobs_current.sales_rep_id IS 'The job''s sales rep; ''(unassigned)'' without one.';
COMMENT ON COLUMN analytics.jobs_current.sales_rep_name IS 'The rep''s name from account/users, else as seen on the job, else the id; ''(unassigned)'' without a rep.';
COMMENT ON COLUMN analytics.jobs_current.lead_source IS 'The job''s source, else its primary contact''s, else ''(unassigned)''.';
COMMENT ON COLUMN analytics.jobs_current.primary_contact_id IS 'The job''s primary contact (contacts.id); NULL without one.';
COMMENT ON COLUMN analytics.jobs_current.date_created IS 'When the job was created (timestamptz).';
COMMENT ON COLUMN analytics.jobs_current.created_month IS 'First day of date_created''s month in the account time zone.';
COMMENT ON COLUMN analytics.jobs_current.date_sold IS 'First entry into Sold or a later funnel stage, from status history (which starts at creation); NULL: never sold.';
COMMENT ON COLUMN analytics.jobs_current.sold_month IS 'First day of date_sold''s month in the account time zone; NULL: never sold.';
COMMENT ON COLUMN analytics.jobs_current.date_lost IS 'First entry into the Lost stage, from status history; NULL: never lost.';
COMMENT ON COLUMN analytics.jobs_current.date_completed IS 'First entry into a completing status (Paid & Closed or a Completed-stage status); NULL: never completed.';
COMMENT ON COLUMN analytics.jobs_current.is_won IS 'Reached Sold or a later funnel stage at some time (date_sold set).';
COMMENT ON COLUMN analytics.jobs_current.is_lost IS 'In the Lost stage now and never sold. win_rate = won / (won + lost).';
COMMENT ON COLUMN analytics.jobs_current.is_completed IS 'Completed now: in Paid & Closed or a status of the Completed stage.';
COMMENT ON COLUMN analytics.jobs_current.is_closed IS 'Completed or in the Lost stage now.';
COMMENT ON COLUMN analytics.jobs_current.days_to_close IS 'date_sold - date_created in days (the PRD''s Average Days to Close); NULL: never sold.';
COMMENT ON COLUMN analytics.jobs_current.approved_estimate_total IS 'Total of the job''s approved estimates, dollars, as the API gives it.';
COMMENT ON COLUMN analytics.jobs_current.approved_invoice_total IS 'Total of the job''s approved invoices, dollars, as the API gives it.';
COMMENT ON COLUMN analytics.jobs_current.pipeline_value IS 'approved_estimate_total when the job is in Estimating, Sold or In Production, else 0; dollars.';
COMMENT ON COLUMN analytics.jobs_current.revenue IS 'The job''s revenue: its payments in analytics.revenue_payments, dollars.';
COMMENT ON COLUMN analytics.jobs_current.expenses IS 'The job''s costs: active, not archived work and material orders (draft and cancelled material orders excluded), dollars.';
COMMENT ON COLUMN analytics.jobs_current.gross_profit IS 'revenue - expenses, dollars.';
COMMENT ON COLUMN analytics.jobs_current.gross_margin IS 'gross_profit / revenue as a fraction (4 decimals); NULL without revenue.';
COMMENT ON COLUMN analytics.jobs_current.outstanding_receivable IS 'approved_invoice_total - revenue, dollars; negative when paid beyond the invoices.';
COMMENT ON COLUMN analytics.jobs_current.has_subcontractor IS 'The job has an active, not archived work order with subcontractors.';
COMMENT ON COLUMN analytics.jobs_current.days_in_lead IS 'Days spent in Lead over the visits that ended; NULL: no visit ended.';
COMMENT ON COLUMN analytics.jobs_current.left_lead IS 'Visits to Lead that ended (average days = days_in_lead / left_lead).';
COMMENT ON COLUMN analytics.jobs_current.days_in_estimating IS 'Days spent in Estimating over the visits that ended; NULL: no visit ended.';
COMMENT ON COLUMN analytics.jobs_current.left_estimating IS 'Visits to Estimating that ended.';
COMMENT ON COLUMN analytics.jobs_current.days_in_sold IS 'Days spent in Sold over the visits that ended; NULL: no visit ended.';
COMMENT ON COLUMN analytics.jobs_current.left_sold IS 'Visits to Sold that ended.';
COMMENT ON COLUMN analytics.jobs_current.days_in_production IS 'Days spent in In Production over the visits that ended; NULL: no visit ended.';
COMMENT ON COLUMN analytics.jobs_current.left_production IS 'Visits to In Production that ended.';
COMMENT ON COLUMN analytics.jobs_current.days_in_receivable IS 'Days spent in Accounts Receivable over the visits that ended; NULL: no visit ended.';
COMMENT ON COLUMN analytics.jobs_current.left_receivable IS 'Visits to Accounts Receivable that ended.';
