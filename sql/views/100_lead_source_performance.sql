-- analytics.lead_source_performance: each lead source over all time.
--   leads      = contacts created with that source (active, not archived, not test records, not
--                subcontractors), '(unassigned)' without one: the owners count leads as contacts
--   sold_leads = of those contacts, the ones with a live job that reached Sold
--   lead_to_sold_rate = sold_leads / leads (a lead is a contact here)
--   won        = live jobs of the source (the job's, else its contact's) that reached Sold
--   revenue    = analytics.revenue_payments of the source (sources add up to the total)
--   avg_job_value = mean approved estimate of the jobs won; avg_days_to_sale = their mean days
--                from creation to Sold
DROP MATERIALIZED VIEW IF EXISTS analytics.lead_source_performance CASCADE;
CREATE MATERIALIZED VIEW analytics.lead_source_performance AS
WITH sold_contacts AS (
    SELECT DISTINCT primary_contact_id AS id
    FROM analytics.jobs_current
    WHERE is_won AND primary_contact_id IS NOT NULL
), leads AS (
    SELECT coalesce(c.lead_source, '(unassigned)') AS lead_source,
           count(*) AS leads,
           count(s.id) AS sold_leads
    FROM contacts c
    LEFT JOIN sold_contacts s ON s.id = c.id
    WHERE c.is_active IS NOT FALSE AND c.is_archived IS NOT TRUE AND NOT c.is_test
      AND c.is_sub_contractor IS NOT TRUE
    GROUP BY 1
), won AS (
    SELECT lead_source, count(*) AS won,
           avg(coalesce(approved_estimate_total, 0)) AS avg_job_value,
           avg(days_to_close) AS avg_days_to_sale
    FROM analytics.jobs_current
    WHERE is_won
    GROUP BY 1
), rev AS (
    SELECT lead_source, sum(revenue) AS revenue
    FROM analytics.revenue_payments
    GROUP BY 1
), sources AS (
    SELECT lead_source FROM leads UNION SELECT lead_source FROM won
    UNION SELECT lead_source FROM rev
)
SELECT s.lead_source,
       coalesce(l.leads, 0)::integer AS leads,
       coalesce(l.sold_leads, 0)::integer AS sold_leads,
       round(l.sold_leads::numeric / nullif(l.leads, 0), 4) AS lead_to_sold_rate,
       coalesce(w.won, 0)::integer AS won,
       coalesce(rev.revenue, 0)::numeric(14,2) AS revenue,
       round(w.avg_job_value, 2) AS avg_job_value,
       round(w.avg_days_to_sale, 2) AS avg_days_to_sale
FROM sources s
LEFT JOIN leads l ON l.lead_source = s.lead_source
LEFT JOIN won w ON w.lead_source = s.lead_source
LEFT JOIN rev ON rev.lead_source = s.lead_source
WITH DATA;
CREATE UNIQUE INDEX lead_source_performance_key ON analytics.lead_source_performance (lead_source);

COMMENT ON MATERIALIZED VIEW analytics.lead_source_performance IS
    'Each lead source over all time: leads (contacts created, as the owners count them), how many sold, jobs won, revenue and average job value.';
COMMENT ON COLUMN analytics.lead_source_performance.lead_source IS 'The source; ''(unassigned)'' for contacts, jobs and payments without one.';
COMMENT ON COLUMN analytics.lead_source_performance.leads IS 'Contacts with that source: active, not archived, not test records, not subcontractors (a lead is a contact here).';
COMMENT ON COLUMN analytics.lead_source_performance.sold_leads IS 'Of those contacts, the ones that are primary contact of a live job that reached Sold.';
COMMENT ON COLUMN analytics.lead_source_performance.lead_to_sold_rate IS 'sold_leads / leads (4 decimals); NULL without leads.';
COMMENT ON COLUMN analytics.lead_source_performance.won IS 'Live jobs of the source (the job''s, else its contact''s) that reached Sold.';
COMMENT ON COLUMN analytics.lead_source_performance.revenue IS 'Revenue (analytics.revenue_payments) of the source, dollars; the sources add up to the total.';
COMMENT ON COLUMN analytics.lead_source_performance.avg_job_value IS 'Mean approved estimate of the jobs won, dollars; NULL without one.';
COMMENT ON COLUMN analytics.lead_source_performance.avg_days_to_sale IS 'Mean days from creation to Sold of the jobs won (2 decimals); NULL without one.';
