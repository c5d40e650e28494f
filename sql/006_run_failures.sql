-- Failed Dagster runs, recorded by the run-failure sensor so dashboards can show pipeline health.
CREATE TABLE IF NOT EXISTS gcc_run_failures (
    run_id      text PRIMARY KEY,
    job_name    text NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    message     text,
    webhook_status text
);
