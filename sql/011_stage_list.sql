-- The stages in funnel order, once in SQL: gcc_stage_order and the funnel views read this list
-- (it must equal gcc_pipeline/stage_mapping.py STAGES; a test compares them). Lead .. Completed
-- are the funnel; Lost and None are terminal side stages outside it. The helpers name it with
-- its schema: PostgreSQL 17+ refreshes materialized views with search_path = pg_catalog.
CREATE OR REPLACE FUNCTION gcc_stages() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['Lead', 'Estimating', 'Sold', 'In Production', 'Accounts Receivable', 'Completed',
               'Lost', 'None']
$$;

CREATE OR REPLACE FUNCTION gcc_stage_order(stage text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_position(public.gcc_stages(), stage)
$$;

-- The funnel's stages with their order (Lead = 1 .. Completed = 6).
CREATE OR REPLACE FUNCTION gcc_funnel_stages() RETURNS TABLE (stage text, stage_order int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT s, o::int FROM unnest(public.gcc_stages()) WITH ORDINALITY AS t(s, o)
  WHERE o <= array_position(public.gcc_stages(), 'Completed')
$$;
