-- Steps that update many jobs rows (restaging, derived dates) wait for a run landing jobs, and
-- vice versa (same key as ingest_lock), so two runs never lock jobs rows in opposite orders.
SELECT pg_advisory_xact_lock(hashtext('gcc_ingest:jobs'))
