INSERT INTO gcc_run_failures (run_id, job_name, message, webhook_status)
VALUES (%(run_id)s, %(job_name)s, %(message)s, %(webhook_status)s)
ON CONFLICT (run_id) DO UPDATE SET message = EXCLUDED.message, webhook_status = EXCLUDED.webhook_status
