"""The Definitions object: nothing else lives here."""

from dagster import Definitions

from gcc_pipeline.assets.history import job_status_history
from gcc_pipeline.assets.ingestion import INGESTION_ASSETS
from gcc_pipeline.assets.reference import sales_reps, workflow_status_lookup
from gcc_pipeline.resources import build_resources

defs = Definitions(
    assets=[*INGESTION_ASSETS, workflow_status_lookup, sales_reps, job_status_history],
    resources=build_resources(),
)
