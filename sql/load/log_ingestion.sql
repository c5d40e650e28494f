-- The load's windows, one row each (a JSON array of their figures), written with the streams'
-- states in one statement.
INSERT INTO jobnimbus_ingestion_log
    (run_id, partition_key, resource, window_start, window_end, requests, retries, fetched,
     raw_inserted, inserted, updated, unchanged, quarantined, skipped, future_dated,
     max_date_updated, started_at, finished_at)
SELECT run_id, partition_key, resource, window_start, window_end, requests, retries, fetched,
       raw_inserted, inserted, updated, unchanged, quarantined, skipped, future_dated,
       max_date_updated, started_at, finished_at
FROM json_populate_recordset(NULL::jobnimbus_ingestion_log, %(rows)s::json)
