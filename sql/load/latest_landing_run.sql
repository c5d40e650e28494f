-- The run that most recently finished landing any of these streams.
SELECT run_id FROM jobnimbus_ingestion_log
WHERE resource = ANY (%(streams)s::text[]) AND run_id IS NOT NULL
ORDER BY finished_at DESC NULLS LAST LIMIT 1
