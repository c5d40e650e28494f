-- Helpers shared by the tables, the loads and the views.
CREATE SCHEMA IF NOT EXISTS analytics;

-- Status names match after normalizing apostrophes, case and whitespace ("Bob’s  Collection" = "bob's collection").
CREATE OR REPLACE FUNCTION gcc_status_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
  SELECT lower(regexp_replace(btrim(translate(name, E'\u2019\u2018\u02bc`\u00b4', '''''''''''')), '\s+', ' ', 'g'))
$$;

-- Funnel position of a stage; Lost and None sit outside the funnel.
CREATE OR REPLACE FUNCTION gcc_stage_order(stage text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE stage
    WHEN 'Lead' THEN 1 WHEN 'Estimating' THEN 2 WHEN 'Sold' THEN 3 WHEN 'In Production' THEN 4
    WHEN 'Accounts Receivable' THEN 5 WHEN 'Completed' THEN 6 WHEN 'Lost' THEN 7 WHEN 'None' THEN 8
  END
$$;
