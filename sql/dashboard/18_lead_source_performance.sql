-- Lead source performance (PRD P1): leads (contacts created), lead -> sold rate, revenue and
-- average job value per source.
SELECT lead_source, leads, sold_leads, lead_to_sold_rate, won, revenue, avg_job_value
FROM analytics.lead_source_performance
ORDER BY leads DESC, lead_source
