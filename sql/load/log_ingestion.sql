INSERT INTO jobnimbus_ingestion_log
    (run_id, partition_key, resource, window_start, window_end, requests, retries, fetched,
     raw_inserted, inserted, updated, unchanged, quarantined, skipped, future_dated, max_date_updated,
     started_at, finished_at)
VALUES (%(run_id)s, %(partition_key)s, %(resource)s, %(window_start)s, %(window_end)s, %(requests)s,
        %(retries)s, %(fetched)s, %(raw_inserted)s, %(inserted)s, %(updated)s, %(unchanged)s,
        %(quarantined)s, %(skipped)s, %(future_dated)s, %(max_date_updated)s, %(started_at)s, now())
