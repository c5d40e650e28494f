SELECT 'contacts', count(*) FROM contacts
UNION ALL SELECT 'jobs', count(*) FROM jobs
UNION ALL SELECT 'payments', count(*) FROM payments
UNION ALL SELECT 'expenses', count(*) FROM expenses
UNION ALL SELECT 'sales_reps', count(*) FROM sales_reps
UNION ALL SELECT 'workflow_status_lookup', count(*) FROM workflow_status_lookup
UNION ALL SELECT 'job_status_history', count(*) FROM job_status_history
UNION ALL SELECT 'jobnimbus_raw_events', count(*) FROM jobnimbus_raw_events
UNION ALL SELECT 'jobnimbus_quarantine', count(*) FROM jobnimbus_quarantine
