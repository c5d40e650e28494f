-- What every table and column means, where every tool sees it (psql \d+, information_schema,
-- the Dagster UI's Columns tab through gcc_pipeline/catalog.json, docs/metrics.md). Tables of
-- 020 and 021 commented themselves; new tables comment their columns in the file creating them.
-- Times are timestamptz (an instant; months and days are cut in the account time zone by the
-- views); money is numeric(14,2) in dollars; ids are JobNimbus jnids unless said otherwise.

-- Normalized tables: the contract with the dashboards.
COMMENT ON TABLE contacts IS
    'Customers and other contacts from JobNimbus /contacts, one row per jnid, the newest payload kept; lead_source is the contact''s source (the owners count leads as contacts created).';
COMMENT ON COLUMN contacts.id IS 'The contact''s jnid.';
COMMENT ON COLUMN contacts.number IS 'The contact number shown in JobNimbus.';
COMMENT ON COLUMN contacts.display_name IS 'display_name, else first and last name.';
COMMENT ON COLUMN contacts.first_name IS 'First name.';
COMMENT ON COLUMN contacts.last_name IS 'Last name.';
COMMENT ON COLUMN contacts.company IS 'Company name.';
COMMENT ON COLUMN contacts.email IS 'Email address.';
COMMENT ON COLUMN contacts.phone IS 'Mobile phone, else home phone, else work phone.';
COMMENT ON COLUMN contacts.contact_type IS 'The contact''s record type (record_type_name).';
COMMENT ON COLUMN contacts.lead_source IS 'Where the lead came from (source_name); NULL when not set.';
COMMENT ON COLUMN contacts.status_name IS 'The contact''s workflow status.';
COMMENT ON COLUMN contacts.sales_rep_id IS 'The contact''s sales rep (sales_reps.id); NULL without one.';
COMMENT ON COLUMN contacts.sales_rep_name IS 'The rep''s name as the record carries it.';
COMMENT ON COLUMN contacts.city IS 'City.';
COMMENT ON COLUMN contacts.state IS 'State (state_text).';
COMMENT ON COLUMN contacts.zip IS 'Postal code.';
COMMENT ON COLUMN contacts.is_sub_contractor IS 'The contact is a subcontractor (not a lead).';
COMMENT ON COLUMN contacts.created_at IS 'The API''s date_created.';
COMMENT ON COLUMN contacts.updated_at IS 'The API''s date_updated: the version an upsert compares.';
COMMENT ON COLUMN contacts.is_active IS 'false: deleted in JobNimbus (or no longer listed by the API at reconciliation).';
COMMENT ON COLUMN contacts.is_archived IS 'Archived in JobNimbus.';
COMMENT ON COLUMN contacts.is_test IS 'A test record: "jane tester" in its name, any case and spacing; left out of every view.';
COMMENT ON COLUMN contacts.payload_hash IS 'md5 of the payload the row was parsed from (jobnimbus_raw_events.payload_hash).';
COMMENT ON COLUMN contacts.raw IS 'The payload the row was parsed from, unmodified.';
COMMENT ON COLUMN contacts.loaded_at IS 'When this row last changed here.';

COMMENT ON TABLE jobs IS
    'Jobs from JobNimbus /jobs, one row per jnid, the newest payload kept, with their stage from workflow_status_lookup (record type + status name, never status id) and flags that follow the stage; date_sold, date_completed and date_lost come from job_status_history.';
COMMENT ON COLUMN jobs.id IS 'The job''s jnid.';
COMMENT ON COLUMN jobs.number IS 'The job number shown in JobNimbus.';
COMMENT ON COLUMN jobs.name IS 'The job''s name.';
COMMENT ON COLUMN jobs.record_type_id IS 'Id of the job''s type (workflow) in the account.';
COMMENT ON COLUMN jobs.record_type_name IS 'The job''s type (workflow), e.g. Roof Replacement, Insurance, Legacy (Bob''s Workflow).';
COMMENT ON COLUMN jobs.status_id IS 'Id of the current status in the account''s workflow.';
COMMENT ON COLUMN jobs.status_name IS 'The current status, as JobNimbus names it.';
COMMENT ON COLUMN jobs.stage IS 'Stage of the status in workflow_status_lookup (Lead, Estimating, Sold, In Production, Accounts Receivable, Completed, Lost, None); NULL when the mapping lacks the status.';
COMMENT ON COLUMN jobs.stage_order IS 'Funnel order of the stage: Lead 1 .. Completed 6, Lost 7, None 8; NULL when unmapped.';
COMMENT ON COLUMN jobs.sales_rep_id IS 'The job''s sales rep (sales_reps.id): who is credited with the deal; NULL without one.';
COMMENT ON COLUMN jobs.sales_rep_name IS 'The rep''s name as the record carries it.';
COMMENT ON COLUMN jobs.source_name IS 'The job''s lead source; NULL when not set (views fall back to the primary contact''s).';
COMMENT ON COLUMN jobs.primary_contact_id IS 'The job''s primary contact (contacts.id).';
COMMENT ON COLUMN jobs.approved_estimate_total IS 'Total of the job''s approved estimates, dollars, as the API gives it.';
COMMENT ON COLUMN jobs.approved_invoice_total IS 'Total of the job''s approved invoices, dollars, as the API gives it.';
COMMENT ON COLUMN jobs.address_line1 IS 'Street address of the job site.';
COMMENT ON COLUMN jobs.city IS 'City of the job site.';
COMMENT ON COLUMN jobs.state IS 'State of the job site (state_text).';
COMMENT ON COLUMN jobs.zip IS 'Postal code of the job site.';
COMMENT ON COLUMN jobs.date_created IS 'The API''s date_created.';
COMMENT ON COLUMN jobs.date_status_change IS 'The API''s date_status_change: when the current status was set.';
COMMENT ON COLUMN jobs.date_sold IS 'First entry into Sold or a later funnel stage, from job_status_history; NULL: never sold.';
COMMENT ON COLUMN jobs.date_completed IS 'First entry into a completing status (Paid & Closed or a Completed-stage status), from job_status_history; NULL: never.';
COMMENT ON COLUMN jobs.date_updated IS 'The API''s date_updated: the version an upsert compares.';
COMMENT ON COLUMN jobs.is_won IS 'The current stage is Sold .. Completed (follows the stage; the views'' is_won is "ever sold", date_sold set).';
COMMENT ON COLUMN jobs.is_closed IS 'Completed or in the Lost stage now.';
COMMENT ON COLUMN jobs.is_lost IS 'The current stage is Lost.';
COMMENT ON COLUMN jobs.is_lead IS 'The API''s is_lead flag, as given.';
COMMENT ON COLUMN jobs.is_active IS 'false: deleted in JobNimbus (or no longer listed by the API at reconciliation).';
COMMENT ON COLUMN jobs.is_archived IS 'Archived in JobNimbus.';
COMMENT ON COLUMN jobs.is_test IS 'A test record: "jane tester" in its name or its primary contact''s, any case and spacing; left out of every view.';
COMMENT ON COLUMN jobs.is_legacy IS 'The record type is a Legacy workflow (Legacy (Bob''s Workflow)); kept in every figure.';
COMMENT ON COLUMN jobs.owners IS 'Ids of the users who own the job.';
COMMENT ON COLUMN jobs.tags IS 'The job''s tags.';
COMMENT ON COLUMN jobs.payload_hash IS 'md5 of the payload the row was parsed from (jobnimbus_raw_events.payload_hash).';
COMMENT ON COLUMN jobs.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN jobs.raw IS 'The payload the row was parsed from, unmodified.';
COMMENT ON COLUMN jobs.is_completed IS 'Completed now: in Paid & Closed or a status of the Completed stage.';
COMMENT ON COLUMN jobs.date_lost IS 'First entry into the Lost stage, from job_status_history; NULL: never lost.';

COMMENT ON TABLE payments IS
    'Payments from JobNimbus /payments, one row per jnid, the newest payload kept. The job comes from related[type=job] (the primary record may be an invoice). Revenue is defined on it by analytics.revenue_payments.';
COMMENT ON COLUMN payments.id IS 'The payment''s jnid.';
COMMENT ON COLUMN payments.number IS 'The payment number shown in JobNimbus.';
COMMENT ON COLUMN payments.job_id IS 'The paid job (jobs.id), from related[type=job]; NULL when the payment names none.';
COMMENT ON COLUMN payments.contact_id IS 'The payer (contacts.id).';
COMMENT ON COLUMN payments.invoice_id IS 'The invoice paid: invoices[0].invoice_id, else the invoice the payment links to.';
COMMENT ON COLUMN payments.amount IS 'The payment''s total, dollars.';
COMMENT ON COLUMN payments.credit IS 'Credit applied, dollars (0 when absent).';
COMMENT ON COLUMN payments.net_amount IS 'amount - credit, dollars.';
COMMENT ON COLUMN payments.refunded_amount IS 'Amount refunded, dollars (0 when absent); the API gives no refund date.';
COMMENT ON COLUMN payments.total_paid IS 'net_amount - refunded_amount, dollars: the cash kept, what revenue sums.';
COMMENT ON COLUMN payments.balance IS 'net_amount not applied to invoices, dollars.';
COMMENT ON COLUMN payments.date_payment IS 'When the payment was made (date_payment); NULL when the API sent none (the views then use date_created).';
COMMENT ON COLUMN payments.payment_method IS 'Check, Credit Card, or ''method N'' for a method id the account does not name; NULL without one.';
COMMENT ON COLUMN payments.processor IS 'The processor that created it (created_by_processor).';
COMMENT ON COLUMN payments.status IS 'The payment''s status (status_name).';
COMMENT ON COLUMN payments.reference IS 'Reference typed on the payment (check number, ...).';
COMMENT ON COLUMN payments.sales_rep_id IS 'The payment''s own sales_rep: often whoever recorded it, so revenue credits the job''s rep first.';
COMMENT ON COLUMN payments.date_created IS 'The API''s date_created.';
COMMENT ON COLUMN payments.date_updated IS 'The API''s date_updated: the version an upsert compares.';
COMMENT ON COLUMN payments.is_active IS 'false: deleted in JobNimbus (or no longer listed by the API at reconciliation); never revenue.';
COMMENT ON COLUMN payments.is_archived IS 'Archived in JobNimbus; never revenue.';
COMMENT ON COLUMN payments.payload_hash IS 'md5 of the payload the row was parsed from (jobnimbus_raw_events.payload_hash).';
COMMENT ON COLUMN payments.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN payments.raw IS 'The payload the row was parsed from, unmodified.';
COMMENT ON COLUMN payments.refund_id IS 'The refund''s reference (refund_id) when the payment was refunded.';

COMMENT ON TABLE expenses IS
    'Job costs: one row per work order (labor, or subcontractor when it has subcontractors) and per material order (materials, vendor = supplier), amount = total_line_item_cost. Draft and cancelled material orders are rows but not costs.';
COMMENT ON COLUMN expenses.id IS 'The jnid of the work order or material order.';
COMMENT ON COLUMN expenses.job_id IS 'The job it is for (jobs.id); NULL when it names none.';
COMMENT ON COLUMN expenses.contact_id IS 'The contact it names (contacts.id).';
COMMENT ON COLUMN expenses.amount IS 'Cost: total_line_item_cost, else the sum of items'' cost x quantity; dollars.';
COMMENT ON COLUMN expenses.price IS 'Price charged: total_line_item_price, dollars.';
COMMENT ON COLUMN expenses.expense_type IS 'labor, subcontractor (a work order with subcontractors) or materials.';
COMMENT ON COLUMN expenses.vendor IS 'The subcontractors'' names (work orders) or the supplier (material orders).';
COMMENT ON COLUMN expenses.status_name IS 'The order''s status; material orders in Draft or Cancelled are not costs.';
COMMENT ON COLUMN expenses.date_expense IS 'When the cost falls: a work order''s end (else start, else creation), a material order''s date (else creation).';
COMMENT ON COLUMN expenses.source_entity IS 'Where the row comes from: workorder or materialorder (later other sources, e.g. a CSV of bills).';
COMMENT ON COLUMN expenses.date_created IS 'The API''s date_created.';
COMMENT ON COLUMN expenses.date_updated IS 'The API''s date_updated: the version an upsert compares.';
COMMENT ON COLUMN expenses.is_active IS 'false: deleted in JobNimbus (or no longer listed by the API at reconciliation); never a cost.';
COMMENT ON COLUMN expenses.is_archived IS 'Archived in JobNimbus; never a cost.';
COMMENT ON COLUMN expenses.payload_hash IS 'md5 of the payload the row was parsed from (jobnimbus_raw_events.payload_hash).';
COMMENT ON COLUMN expenses.updated_at IS 'When this row last changed here.';
COMMENT ON COLUMN expenses.raw IS 'The payload the row was parsed from, unmodified.';

-- Derived tables.
COMMENT ON TABLE sales_reps IS
    'Sales reps from account/users plus every rep seen on a record (sales_rep / sales_rep_name).';
COMMENT ON COLUMN sales_reps.id IS 'The user''s jnid (what records carry as sales_rep).';
COMMENT ON COLUMN sales_reps.name IS 'Full name from account/users, else as seen on records.';
COMMENT ON COLUMN sales_reps.first_name IS 'First name (account/users only).';
COMMENT ON COLUMN sales_reps.last_name IS 'Last name (account/users only).';
COMMENT ON COLUMN sales_reps.email IS 'Email address (account/users only).';
COMMENT ON COLUMN sales_reps.phone IS 'Phone (account/users only).';
COMMENT ON COLUMN sales_reps.is_active IS 'The user is active in the account; NULL for a rep seen on records only.';
COMMENT ON COLUMN sales_reps.source IS '''account/users'' or ''records'' (seen on a record only).';
COMMENT ON COLUMN sales_reps.loaded_at IS 'When this row was written.';

COMMENT ON TABLE workflow_status_lookup IS
    'Stage of every (record type, status name): the mapping file gcc_pipeline/stage_mappings.yaml enriched with the status ids of account/settings. Jobs and history get their stage from it by name, never by status id alone.';
COMMENT ON COLUMN workflow_status_lookup.record_type_id IS 'Id of the record type (workflow) in the account.';
COMMENT ON COLUMN workflow_status_lookup.record_type_name IS 'The record type''s name.';
COMMENT ON COLUMN workflow_status_lookup.workflow IS 'The workflow the mapping file lists the status under.';
COMMENT ON COLUMN workflow_status_lookup.status_id IS 'The status id from account/settings; NULL when the API does not list it.';
COMMENT ON COLUMN workflow_status_lookup.status_name IS 'The status name.';
COMMENT ON COLUMN workflow_status_lookup.status_key IS 'gcc_status_key(status_name): lower case, apostrophes and spaces normalized; what names are matched on.';
COMMENT ON COLUMN workflow_status_lookup.stage IS 'The stage (Lead .. Completed, Lost, None); NULL: listed by the API but missing from the mapping file.';
COMMENT ON COLUMN workflow_status_lookup.stage_order IS 'Funnel order of the stage: Lead 1 .. Completed 6, Lost 7, None 8.';
COMMENT ON COLUMN workflow_status_lookup.alias_of IS 'For an alias row (an old name of a renamed status, from the mapping''s aliases:), the current name; NULL otherwise.';

COMMENT ON TABLE job_status_history IS
    'Append-only: one row per status a job entered, its first status at creation (source created) then every change (activity or poll); unique on (job_id, changed_at, status_name).';
COMMENT ON COLUMN job_status_history.id IS 'Row id, in insertion order (breaks ties of changed_at).';
COMMENT ON COLUMN job_status_history.job_id IS 'The job (jobs.id).';
COMMENT ON COLUMN job_status_history.status_id IS 'The status id when known.';
COMMENT ON COLUMN job_status_history.status_name IS 'The status entered.';
COMMENT ON COLUMN job_status_history.previous_status_name IS 'The status left; NULL for the first row.';
COMMENT ON COLUMN job_status_history.stage IS 'Stage of the status in workflow_status_lookup (aliases and status ids resolve renamed names); NULL when unmapped.';
COMMENT ON COLUMN job_status_history.changed_at IS 'When the job entered the status (the activity''s date_created; the job''s creation; for a poll the job''s date_status_change, else date_updated).';
COMMENT ON COLUMN job_status_history.recorded_at IS 'When this row was written.';
COMMENT ON COLUMN job_status_history.source IS 'created (the job''s first status, at creation: accounts do not log it), activity (a status-change note) or poll (a status seen to differ between two fetches).';
COMMENT ON COLUMN job_status_history.activity_id IS 'The status-change activity''s jnid (source activity).';

COMMENT ON TABLE jobnimbus_status_changes IS
    'Status-change activities parsed once at landing ("Status: A => B" / "Status changed from A to B"): job, previous and new status, when. job_status_history is built from it.';
COMMENT ON COLUMN jobnimbus_status_changes.id IS 'The activity''s jnid.';
COMMENT ON COLUMN jobnimbus_status_changes.job_id IS 'The job whose status changed (jobs.id).';
COMMENT ON COLUMN jobnimbus_status_changes.previous_status_name IS 'The status left; NULL for "(none)", the first status.';
COMMENT ON COLUMN jobnimbus_status_changes.status_name IS 'The status entered (first line of the note only).';
COMMENT ON COLUMN jobnimbus_status_changes.changed_at IS 'The activity''s date_created: when the status changed.';
COMMENT ON COLUMN jobnimbus_status_changes.date_updated IS 'The activity''s date_updated.';
COMMENT ON COLUMN jobnimbus_status_changes.payload_hash IS 'md5 of the activity''s payload.';
COMMENT ON COLUMN jobnimbus_status_changes.loaded_at IS 'When this row last changed here.';
COMMENT ON COLUMN jobnimbus_status_changes.status_id IS 'Id of the status entered, when the payload has it (resolves renamed statuses).';
COMMENT ON COLUMN jobnimbus_status_changes.previous_status_id IS 'Id of the status left, when the payload has it.';

COMMENT ON TABLE gcc_settings IS
    'Account-level settings the SQL needs, upserted by the pipeline from its environment: timezone (GCC_TIMEZONE), the zone views cut days and months in.';
COMMENT ON COLUMN gcc_settings.key IS 'The setting''s name (timezone).';
COMMENT ON COLUMN gcc_settings.value IS 'Its value (an IANA zone name for timezone).';

-- Private tables: raw payloads and the pipeline's bookkeeping (not granted to the reader role).
COMMENT ON TABLE jobnimbus_raw_events IS
    'Every JobNimbus payload fetched, unmodified, for audit and replay: the same payload fetched twice is stored once (unique on entity_type, entity_id, payload_hash).';
COMMENT ON COLUMN jobnimbus_raw_events.id IS 'Row id, in landing order.';
COMMENT ON COLUMN jobnimbus_raw_events.entity_type IS 'contact, job, payment, workorder, materialorder or activity.';
COMMENT ON COLUMN jobnimbus_raw_events.entity_id IS 'The record''s jnid ('''' when missing, hashed when absurdly long).';
COMMENT ON COLUMN jobnimbus_raw_events.payload IS 'The record as the API returned it.';
COMMENT ON COLUMN jobnimbus_raw_events.payload_hash IS 'md5 of the canonical JSON text of the payload.';
COMMENT ON COLUMN jobnimbus_raw_events.date_updated IS 'The record''s own date_updated; NULL when 0 or absent.';
COMMENT ON COLUMN jobnimbus_raw_events.window_at IS 'The time the fetch window was cut on (activities: date_created; others: date_updated).';
COMMENT ON COLUMN jobnimbus_raw_events.received_at IS 'When the payload was landed.';
COMMENT ON COLUMN jobnimbus_raw_events.run_id IS 'The Dagster run that landed it.';
COMMENT ON COLUMN jobnimbus_raw_events.partition_key IS 'The monthly partition it was landed under (reconcile: the weekly reconciliation).';

COMMENT ON TABLE jobnimbus_quarantine IS
    'Records that could not be normalized, with the reason: nothing is silently dropped. One row per (entity_type, payload_hash, reason).';
COMMENT ON COLUMN jobnimbus_quarantine.id IS 'Row id.';
COMMENT ON COLUMN jobnimbus_quarantine.entity_type IS 'contact, job, payment, workorder, materialorder or activity.';
COMMENT ON COLUMN jobnimbus_quarantine.entity_id IS 'The raw id as received (cut to 200 characters).';
COMMENT ON COLUMN jobnimbus_quarantine.raw_event_id IS 'jobnimbus_raw_events.id of the payload, when it could be stored.';
COMMENT ON COLUMN jobnimbus_quarantine.payload_hash IS 'md5 of the payload.';
COMMENT ON COLUMN jobnimbus_quarantine.reason IS 'Why the record was not normalized (e.g. a field that is not a number).';
COMMENT ON COLUMN jobnimbus_quarantine.payload_excerpt IS 'The start of the payload when it could not be stored as jsonb.';
COMMENT ON COLUMN jobnimbus_quarantine.run_id IS 'The Dagster run that met it.';
COMMENT ON COLUMN jobnimbus_quarantine.partition_key IS 'The partition being loaded.';
COMMENT ON COLUMN jobnimbus_quarantine.quarantined_at IS 'When it was quarantined.';

COMMENT ON TABLE jobnimbus_ingestion_log IS
    'One row per window fetched per stream and run: its bounds, requests, what was fetched and what became of it, and the stream''s cursor after it.';
COMMENT ON COLUMN jobnimbus_ingestion_log.id IS 'Row id.';
COMMENT ON COLUMN jobnimbus_ingestion_log.run_id IS 'The Dagster run.';
COMMENT ON COLUMN jobnimbus_ingestion_log.partition_key IS 'The monthly partition loaded (reconcile: the weekly reconciliation).';
COMMENT ON COLUMN jobnimbus_ingestion_log.resource IS 'The stream (contacts, jobs, payments, workorders, materialorders, activities).';
COMMENT ON COLUMN jobnimbus_ingestion_log.window_start IS 'Start of the window fetched (inclusive); NULL for a fetch by id.';
COMMENT ON COLUMN jobnimbus_ingestion_log.window_end IS 'End of the window fetched (exclusive); NULL for a fetch by id.';
COMMENT ON COLUMN jobnimbus_ingestion_log.requests IS 'HTTP requests made.';
COMMENT ON COLUMN jobnimbus_ingestion_log.retries IS 'Requests retried (429, 5xx, transport or body faults).';
COMMENT ON COLUMN jobnimbus_ingestion_log.fetched IS 'Records received.';
COMMENT ON COLUMN jobnimbus_ingestion_log.raw_inserted IS 'Payloads new to jobnimbus_raw_events.';
COMMENT ON COLUMN jobnimbus_ingestion_log.inserted IS 'Rows inserted into the stream''s table.';
COMMENT ON COLUMN jobnimbus_ingestion_log.updated IS 'Rows updated (a newer version).';
COMMENT ON COLUMN jobnimbus_ingestion_log.unchanged IS 'Records whose row was already current.';
COMMENT ON COLUMN jobnimbus_ingestion_log.quarantined IS 'Records quarantined (jobnimbus_quarantine).';
COMMENT ON COLUMN jobnimbus_ingestion_log.max_date_updated IS 'The stream''s cursor after this fetch: the newest window-field value landed.';
COMMENT ON COLUMN jobnimbus_ingestion_log.started_at IS 'When the fetch began.';
COMMENT ON COLUMN jobnimbus_ingestion_log.finished_at IS 'When it ended; NULL while running or when it failed.';
COMMENT ON COLUMN jobnimbus_ingestion_log.skipped IS 'Records kept raw only (a plain note, a repeat within a page).';
COMMENT ON COLUMN jobnimbus_ingestion_log.future_dated IS 'Records dated after the load began (an API clock ahead of ours, a mistyped date).';

COMMENT ON TABLE jobnimbus_sync_state IS
    'Each stream''s sync state: loads are contiguous from covered_from up to high_water_mark, the newest window-field value landed; incremental runs fetch from the mark minus an overlap.';
COMMENT ON COLUMN jobnimbus_sync_state.stream IS 'The stream (streams.py).';
COMMENT ON COLUMN jobnimbus_sync_state.covered_from IS 'The earliest time the loads cover without a gap.';
COMMENT ON COLUMN jobnimbus_sync_state.high_water_mark IS 'The newest window-field value landed, never later than the moment its load began; NULL: no record yet.';
COMMENT ON COLUMN jobnimbus_sync_state.synced_at IS 'When the state was last written.';
COMMENT ON COLUMN jobnimbus_sync_state.run_id IS 'The Dagster run that wrote it.';

COMMENT ON TABLE gcc_cursors IS
    'Positions of incremental steps that read what other steps wrote (job_status_history reads the status changes and jobs written since its last build).';
COMMENT ON COLUMN gcc_cursors.name IS 'The cursor (a reader and what it reads).';
COMMENT ON COLUMN gcc_cursors.position IS 'Everything written before this moment has been read.';
COMMENT ON COLUMN gcc_cursors.run_id IS 'The Dagster run that moved it.';
COMMENT ON COLUMN gcc_cursors.updated_at IS 'When it was moved.';

COMMENT ON TABLE gcc_run_failures IS
    'Failed Dagster runs, recorded by the run-failure sensor (or gcc run) so dashboards can show pipeline health.';
COMMENT ON COLUMN gcc_run_failures.run_id IS 'The failed run.';
COMMENT ON COLUMN gcc_run_failures.job_name IS 'Its Dagster job.';
COMMENT ON COLUMN gcc_run_failures.failed_at IS 'When the failure was recorded.';
COMMENT ON COLUMN gcc_run_failures.message IS 'The failure''s message (first 2,000 characters).';
COMMENT ON COLUMN gcc_run_failures.webhook_status IS 'HTTP status of the post to GCC_FAILURE_WEBHOOK_URL, or ''error: <kind>''; NULL when none is configured.';

COMMENT ON TABLE gcc_schema_migrations IS
    'The sql/ files applied to this database (numbered migrations once each, views/ files in their current version), by checksum.';
COMMENT ON COLUMN gcc_schema_migrations.filename IS 'The file: NNN_*.sql, or views/NNN_*.sql.';
COMMENT ON COLUMN gcc_schema_migrations.checksum IS 'SHA-256 of the file as applied.';
COMMENT ON COLUMN gcc_schema_migrations.applied_at IS 'When it was applied.';
