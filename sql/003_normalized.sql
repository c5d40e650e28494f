-- Normalized tables: the contract with the dashboards. No foreign keys: ingestion order must not matter.

CREATE TABLE IF NOT EXISTS sales_reps (
    id          text PRIMARY KEY,
    name        text,
    first_name  text,
    last_name   text,
    email       text,
    phone       text,
    is_active   boolean,
    source      text NOT NULL,                     -- 'account/users' or 'records' (seen on a record only)
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS workflow_status_lookup (
    record_type_id   integer NOT NULL,
    record_type_name text    NOT NULL,
    workflow         text    NOT NULL,
    status_id        integer,                      -- from account/settings; NULL when the API does not list it
    status_name      text    NOT NULL,
    status_key       text    NOT NULL,             -- gcc_status_key(status_name)
    stage            text,                         -- NULL: listed by the API but missing from the mapping file
    stage_order      integer,
    PRIMARY KEY (record_type_id, status_key)
);
CREATE INDEX IF NOT EXISTS workflow_status_lookup_name_idx ON workflow_status_lookup (record_type_name, status_key);

CREATE TABLE IF NOT EXISTS contacts (
    id             text PRIMARY KEY,               -- jnid
    number         text,
    display_name   text,
    first_name     text,
    last_name      text,
    company        text,
    email          text,
    phone          text,
    contact_type   text,                           -- record_type_name
    lead_source    text,                           -- source_name
    status_name    text,
    sales_rep_id   text,
    sales_rep_name text,
    city           text,
    state          text,
    zip            text,
    is_sub_contractor boolean,
    created_at     timestamptz,
    updated_at     timestamptz,                    -- the API's date_updated
    is_active      boolean,
    is_archived    boolean,
    is_test        boolean NOT NULL DEFAULT false,
    payload_hash   text,
    raw            jsonb,
    loaded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS contacts_lead_source_idx ON contacts (lead_source);
CREATE INDEX IF NOT EXISTS contacts_sales_rep_idx ON contacts (sales_rep_id);
CREATE INDEX IF NOT EXISTS contacts_updated_idx ON contacts (updated_at);

CREATE TABLE IF NOT EXISTS jobs (
    id                      text PRIMARY KEY,      -- jnid
    number                  text,
    name                    text,
    record_type_id          integer,
    record_type_name        text,
    status_id               integer,
    status_name             text,
    stage                   text,                  -- from workflow_status_lookup by (record type, status name)
    stage_order             integer,
    sales_rep_id            text,
    sales_rep_name          text,
    source_name             text,
    primary_contact_id      text,
    approved_estimate_total numeric(14,2),
    approved_invoice_total  numeric(14,2),
    address_line1           text,
    city                    text,
    state                   text,
    zip                     text,
    date_created            timestamptz,
    date_status_change      timestamptz,
    date_sold               timestamptz,           -- derived from job_status_history
    date_completed          timestamptz,           -- derived from job_status_history
    date_updated            timestamptz,
    is_won                  boolean NOT NULL DEFAULT false,
    is_closed               boolean NOT NULL DEFAULT false,
    is_lost                 boolean NOT NULL DEFAULT false,
    is_lead                 boolean,
    is_active               boolean,
    is_archived             boolean,
    is_test                 boolean NOT NULL DEFAULT false,
    is_legacy               boolean NOT NULL DEFAULT false,
    owners                  text[],
    tags                    text[],
    payload_hash            text,
    updated_at              timestamptz NOT NULL DEFAULT now(),   -- when this row last changed here
    raw                     jsonb
);
CREATE INDEX IF NOT EXISTS jobs_record_type_idx ON jobs (record_type_name);
CREATE INDEX IF NOT EXISTS jobs_stage_idx ON jobs (stage);
CREATE INDEX IF NOT EXISTS jobs_sales_rep_idx ON jobs (sales_rep_id);
CREATE INDEX IF NOT EXISTS jobs_contact_idx ON jobs (primary_contact_id);
CREATE INDEX IF NOT EXISTS jobs_date_created_idx ON jobs (date_created);
CREATE INDEX IF NOT EXISTS jobs_date_updated_idx ON jobs (date_updated);
CREATE INDEX IF NOT EXISTS jobs_date_sold_idx ON jobs (date_sold);

CREATE TABLE IF NOT EXISTS payments (
    id               text PRIMARY KEY,             -- jnid
    number           text,
    job_id           text,                         -- related[type=job]; primary may be an invoice
    contact_id       text,
    invoice_id       text,
    amount           numeric(14,2),                -- total
    credit           numeric(14,2),
    net_amount       numeric(14,2),                -- total - credit
    refunded_amount  numeric(14,2),
    total_paid       numeric(14,2),                -- net_amount - refunded_amount
    balance          numeric(14,2),                -- net_amount not applied to invoices
    date_payment     timestamptz,
    payment_method   text,
    processor        text,
    status           text,
    reference        text,
    sales_rep_id     text,
    date_created     timestamptz,
    date_updated     timestamptz,
    is_active        boolean,
    is_archived      boolean,
    payload_hash     text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    raw              jsonb
);
CREATE INDEX IF NOT EXISTS payments_job_idx ON payments (job_id);
CREATE INDEX IF NOT EXISTS payments_date_idx ON payments (date_payment);
CREATE INDEX IF NOT EXISTS payments_updated_idx ON payments (date_updated);

CREATE TABLE IF NOT EXISTS expenses (
    id              text PRIMARY KEY,              -- jnid of the work order or material order
    job_id          text,
    contact_id      text,
    amount          numeric(14,2),                 -- total_line_item_cost
    price           numeric(14,2),                 -- total_line_item_price
    expense_type    text,                          -- labor, subcontractor, materials
    vendor          text,
    status_name     text,
    date_expense    timestamptz,
    source_entity   text NOT NULL,                 -- workorder, materialorder (later: a CSV of bills)
    date_created    timestamptz,
    date_updated    timestamptz,
    is_active       boolean,
    is_archived     boolean,
    payload_hash    text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    raw             jsonb
);
CREATE INDEX IF NOT EXISTS expenses_job_idx ON expenses (job_id);
CREATE INDEX IF NOT EXISTS expenses_date_idx ON expenses (date_expense);

-- Append-only: one row per status change; idempotent on (job_id, changed_at, status_name).
CREATE TABLE IF NOT EXISTS job_status_history (
    id                   bigserial PRIMARY KEY,
    job_id               text        NOT NULL,
    status_id            integer,
    status_name          text        NOT NULL,
    previous_status_name text,
    stage                text,
    changed_at           timestamptz NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    source               text        NOT NULL CHECK (source IN ('activity', 'poll')),
    activity_id          text,
    CONSTRAINT job_status_history_once UNIQUE (job_id, changed_at, status_name)
);
CREATE INDEX IF NOT EXISTS job_status_history_job_idx ON job_status_history (job_id, changed_at);
CREATE INDEX IF NOT EXISTS job_status_history_stage_idx ON job_status_history (stage, changed_at);
