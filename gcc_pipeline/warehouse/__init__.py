"""The PostgreSQL side: which server, the schema, and bulk loads."""
