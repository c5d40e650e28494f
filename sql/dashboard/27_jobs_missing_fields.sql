-- Operations (PRD P2 alert): live jobs missing a required field (no rep, no source, no contact, no address), most gaps first, with the count of jobs missing each field over all of them.
SELECT job_id, number, name, record_type_name, stage, missing_rep, missing_source,
       missing_contact, missing_address, missing_count, jobs_missing_any, jobs_missing_rep,
       jobs_missing_source, jobs_missing_contact, jobs_missing_address
FROM analytics.jobs_missing_fields
ORDER BY missing_count DESC, date_created, job_id
LIMIT %(limit)s
