-- Issue 21: invoices, estimates and tasks, copied like every other stream (streams.py): one row
-- per jnid, the newest payload wins, raw payload kept. The operations questions (overdue
-- invoices, pending payments, receivables from invoices, the estimate funnel, open and overdue
-- tasks) read them through the analytics views 140 onward.
CREATE TABLE IF NOT EXISTS invoices (
    id                 text PRIMARY KEY,
    number             text,
    job_id             text,
    contact_id         text,
    status_id          integer,
    status_name        text,
    date_status_change timestamptz,
    date_invoice       timestamptz,
    date_due           timestamptz,
    date_paid_in_full  timestamptz,
    total              numeric(14,2),
    total_paid         numeric(14,2),
    due                numeric(14,2),
    sales_rep_id       text,
    sales_rep_name     text,
    date_created       timestamptz,
    date_updated       timestamptz,
    is_active          boolean,
    is_archived        boolean,
    payload_hash       text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    raw                jsonb
);
CREATE INDEX IF NOT EXISTS invoices_job_idx ON invoices (job_id);
CREATE INDEX IF NOT EXISTS invoices_updated_idx ON invoices (date_updated);
CREATE INDEX IF NOT EXISTS invoices_open_due_idx ON invoices (date_due) WHERE due > 0;
COMMENT ON TABLE invoices IS
    'Invoices from /api1/v2/invoices, one row per jnid (the newest payload wins). Amounts are the API''s: due is what is still owed. The views of invoices leave out inactive, archived, voided and test-record invoices.';
COMMENT ON COLUMN invoices.id IS 'The invoice''s jnid.';
COMMENT ON COLUMN invoices.number IS 'The invoice number as the account shows it.';
COMMENT ON COLUMN invoices.job_id IS 'The job in related[] (type job), else primary; NULL for an invoice made without a job.';
COMMENT ON COLUMN invoices.contact_id IS 'The contact in related[] (type contact), else primary.';
COMMENT ON COLUMN invoices.status_id IS 'The invoice status id.';
COMMENT ON COLUMN invoices.status_name IS 'The invoice status as the account names it (e.g. Sent, Partially Paid, Paid, Void).';
COMMENT ON COLUMN invoices.date_status_change IS 'When the invoice last changed status.';
COMMENT ON COLUMN invoices.date_invoice IS 'The invoice date (date_invoice).';
COMMENT ON COLUMN invoices.date_due IS 'When payment is due (date_due); may lie in the past on a paid invoice.';
COMMENT ON COLUMN invoices.date_paid_in_full IS 'When the invoice was paid in full; NULL while anything is due.';
COMMENT ON COLUMN invoices.total IS 'Invoice total in dollars.';
COMMENT ON COLUMN invoices.total_paid IS 'Payments applied to the invoice, in dollars, as the API states.';
COMMENT ON COLUMN invoices.due IS 'Amount still owed (the API''s due; total - total_paid when the payload lacks it).';
COMMENT ON COLUMN invoices.sales_rep_id IS 'The invoice''s sales_rep (user jnid).';
COMMENT ON COLUMN invoices.sales_rep_name IS 'The invoice''s sales_rep_name.';
COMMENT ON COLUMN invoices.date_created IS 'When the invoice was created.';
COMMENT ON COLUMN invoices.date_updated IS 'When the invoice last changed (the version an upsert compares).';
COMMENT ON COLUMN invoices.is_active IS 'False once deleted in JobNimbus (deletes are soft).';
COMMENT ON COLUMN invoices.is_archived IS 'True when archived.';
COMMENT ON COLUMN invoices.payload_hash IS 'Hash of the payload this row was parsed from.';
COMMENT ON COLUMN invoices.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN invoices.raw IS 'The payload as fetched.';

CREATE TABLE IF NOT EXISTS estimates (
    id                 text PRIMARY KEY,
    number             text,
    job_id             text,
    contact_id         text,
    status_id          integer,
    status_name        text,
    date_status_change timestamptz,
    date_estimate      timestamptz,
    total              numeric(14,2),
    sales_rep_id       text,
    sales_rep_name     text,
    date_created       timestamptz,
    date_updated       timestamptz,
    is_active          boolean,
    is_archived        boolean,
    payload_hash       text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    raw                jsonb
);
CREATE INDEX IF NOT EXISTS estimates_job_idx ON estimates (job_id);
CREATE INDEX IF NOT EXISTS estimates_updated_idx ON estimates (date_updated);
COMMENT ON TABLE estimates IS
    'Estimates from /api1/v2/estimates (the v2 documents, not the legacy /api1/estimates), one row per jnid; a job often has several versions.';
COMMENT ON COLUMN estimates.id IS 'The estimate''s jnid.';
COMMENT ON COLUMN estimates.number IS 'The estimate number as the account shows it.';
COMMENT ON COLUMN estimates.job_id IS 'The job in related[] (type job), else primary; NULL without a job.';
COMMENT ON COLUMN estimates.contact_id IS 'The contact in related[] (type contact), else primary.';
COMMENT ON COLUMN estimates.status_id IS 'The estimate status id.';
COMMENT ON COLUMN estimates.status_name IS 'The estimate status as the account names it (e.g. Draft, Sent, Approved, Declined).';
COMMENT ON COLUMN estimates.date_status_change IS 'When the estimate last changed status: for an approved or declined estimate, when it was approved or declined.';
COMMENT ON COLUMN estimates.date_estimate IS 'The estimate date (date_estimate, else date_created): when it was sent.';
COMMENT ON COLUMN estimates.total IS 'Estimate total in dollars.';
COMMENT ON COLUMN estimates.sales_rep_id IS 'The estimate''s sales_rep (user jnid).';
COMMENT ON COLUMN estimates.sales_rep_name IS 'The estimate''s sales_rep_name.';
COMMENT ON COLUMN estimates.date_created IS 'When the estimate was created.';
COMMENT ON COLUMN estimates.date_updated IS 'When the estimate last changed (the version an upsert compares).';
COMMENT ON COLUMN estimates.is_active IS 'False once deleted in JobNimbus (deletes are soft).';
COMMENT ON COLUMN estimates.is_archived IS 'True when archived.';
COMMENT ON COLUMN estimates.payload_hash IS 'Hash of the payload this row was parsed from.';
COMMENT ON COLUMN estimates.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN estimates.raw IS 'The payload as fetched.';

CREATE TABLE IF NOT EXISTS tasks (
    id            text PRIMARY KEY,
    number        text,
    title         text,
    task_type     text,
    job_id        text,
    contact_id    text,
    assignee_id   text,
    date_start    timestamptz,
    date_end      timestamptz,
    is_completed  boolean NOT NULL DEFAULT false,
    priority      integer,
    date_created  timestamptz,
    date_updated  timestamptz,
    is_active     boolean,
    is_archived   boolean,
    payload_hash  text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    raw           jsonb
);
CREATE INDEX IF NOT EXISTS tasks_job_idx ON tasks (job_id);
CREATE INDEX IF NOT EXISTS tasks_updated_idx ON tasks (date_updated);
CREATE INDEX IF NOT EXISTS tasks_open_idx ON tasks (assignee_id, coalesce(date_end, date_start))
    WHERE NOT is_completed;
COMMENT ON TABLE tasks IS
    'Tasks from /api1/tasks, one row per jnid: appointments, follow-ups and the like, related to a job or a contact, assigned to their first owner.';
COMMENT ON COLUMN tasks.id IS 'The task''s jnid.';
COMMENT ON COLUMN tasks.number IS 'The task number.';
COMMENT ON COLUMN tasks.title IS 'The task title.';
COMMENT ON COLUMN tasks.task_type IS 'The task type (record_type_name: Appointment, Follow Up, ...).';
COMMENT ON COLUMN tasks.job_id IS 'The job it relates to (primary or related[], type job); NULL for a contact''s task.';
COMMENT ON COLUMN tasks.contact_id IS 'The contact it relates to (primary or related[], type contact).';
COMMENT ON COLUMN tasks.assignee_id IS 'Its first owner (user jnid); NULL when nobody is assigned.';
COMMENT ON COLUMN tasks.date_start IS 'When the task starts; NULL when unset (0 in the API).';
COMMENT ON COLUMN tasks.date_end IS 'When the task ends; often NULL in real accounts.';
COMMENT ON COLUMN tasks.is_completed IS 'Whether the task is done (false when the payload says nothing).';
COMMENT ON COLUMN tasks.priority IS 'The task priority as the API gives it (higher is more urgent).';
COMMENT ON COLUMN tasks.date_created IS 'When the task was created.';
COMMENT ON COLUMN tasks.date_updated IS 'When the task last changed (the version an upsert compares).';
COMMENT ON COLUMN tasks.is_active IS 'False once deleted in JobNimbus (deletes are soft).';
COMMENT ON COLUMN tasks.is_archived IS 'True when archived.';
COMMENT ON COLUMN tasks.payload_hash IS 'Hash of the payload this row was parsed from.';
COMMENT ON COLUMN tasks.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN tasks.raw IS 'The payload as fetched.';
