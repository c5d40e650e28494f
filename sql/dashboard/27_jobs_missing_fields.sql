-- Operations (PRD P2 alert): live jobs missing a required field (no rep, no source, no contact, no address), most gaps first, with the count of jobs missing each field over all of them.
SELECT job_id, number, name, record_type_name, stage, missing_rep, missing_source,
       missing_contact, missing_address, missing_count,
       count(*) OVER () AS jobs_missing_any,
       count(*) FILTER (WHERE missing_rep) OVER () AS jobs_missing_rep,
       count(*) FILTER (WHERE missing_source) OVER () AS jobs_missing_source,
       count(*) FILTER (WHERE missing_contact) OVER () AS jobs_missing_contact,
       count(*) FILTER (WHERE missing_address) OVER () AS jobs_missing_address
FROM analytics.jobs_missing_fields
ORDER BY missing_count DESC, date_created, job_id
LIMIT %(limit)s
