"""The Definitions object: nothing else lives here."""

from dagster import Definitions

from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS
from gcc_pipeline.assets.history import job_status_history
from gcc_pipeline.assets.ingestion import INGESTION_ASSETS
from gcc_pipeline.assets.reconciliation import reconciliation
from gcc_pipeline.assets.reference import sales_reps, workflow_status_lookup
from gcc_pipeline.checks import ASSET_CHECKS
from gcc_pipeline.jobs import ingest_job, nightly_job, reconciliation_job
from gcc_pipeline.resources import build_resources
from gcc_pipeline.schedules import SCHEDULES
from gcc_pipeline.sensors import SENSORS

defs = Definitions(
    assets=[
        *INGESTION_ASSETS,
        workflow_status_lookup,
        sales_reps,
        job_status_history,
        reconciliation,
        *ANALYTICS_ASSETS,
    ],
    asset_checks=ASSET_CHECKS,
    jobs=[ingest_job, nightly_job, reconciliation_job],
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=build_resources(),
)
