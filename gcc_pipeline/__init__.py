"""gcc-pipeline: JobNimbus to PostgreSQL, as a Dagster project."""
