"""The Definitions object: nothing else lives here."""

from dagster import Definitions, in_process_executor

from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS
from gcc_pipeline.assets.history import job_status_history
from gcc_pipeline.assets.ingestion import jobnimbus
from gcc_pipeline.assets.reconciliation import reconciliation
from gcc_pipeline.assets.reference import sales_reps, workflow_status_lookup
from gcc_pipeline.checks import STANDALONE_CHECKS
from gcc_pipeline.console import compact_console
from gcc_pipeline.jobs import JOBS
from gcc_pipeline.resources import build_resources
from gcc_pipeline.schedules import SCHEDULES
from gcc_pipeline.sensors import SENSORS

defs = Definitions(
    assets=[
        workflow_status_lookup,
        jobnimbus,
        sales_reps,
        job_status_history,
        reconciliation,
        *ANALYTICS_ASSETS,
    ],
    asset_checks=STANDALONE_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources=build_resources(),
    # One process per run, steps in order: no process per step or check (see jobs.py).
    executor=in_process_executor,
    loggers={"console": compact_console},
)
