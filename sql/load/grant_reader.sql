-- The read-only role for dashboards and AI agents (`gcc db grant-reader`, warehouse/roles.py).
-- {role} and {database} are composed with psycopg2.sql.Identifier. Column-level SELECT on the
-- normalized tables (all columns but raw/payload_hash) is granted by roles.py after this file.
-- Everything is revoked first, so a second run (or a run after a manual grant) ends in the same
-- state: privileges are exactly these, never more.
ALTER ROLE {role} SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE {database} TO {role};
REVOKE CREATE ON SCHEMA public FROM {role};
REVOKE CREATE ON SCHEMA analytics FROM {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT USAGE ON SCHEMA analytics TO {role};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role};
REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM {role};
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {role};
-- Views created later (by this warehouse's owner, who runs the migrations) are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO {role};
