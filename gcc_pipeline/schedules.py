"""Schedules: frequent incremental runs, a nightly run with the analytics, a weekly reconciliation.

Scheduled runs are incremental: they name the current month and each stream fetches from its
high-water mark (minus an overlap), so a run with nothing new costs one request per stream.
"""

from datetime import datetime

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from gcc_pipeline.jobs import COMPACT_LOGS, ingest_job, reconciliation_job, sync_job
from gcc_pipeline.partitions import latest_key
from gcc_pipeline.settings import load_settings

_settings = load_settings()

INCREMENTAL = {**COMPACT_LOGS, "ops": {"jobnimbus": {"config": {"incremental": True}}}}


def incremental_request(when: datetime, run_key: str) -> RunRequest:
    """One incremental run of the month holding `when`."""
    return RunRequest(
        run_key=run_key,
        partition_key=latest_key(when),
        run_config=INCREMENTAL,
    )


@schedule(
    cron_schedule=_settings.incremental_cron,
    job=ingest_job,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Hourly (GCC_INCREMENTAL_CRON): load what changed since each stream's "
    "high-water mark.",
)
def incremental_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    when = context.scheduled_execution_time
    return incremental_request(when, f"incremental@{when.isoformat()}")


@schedule(
    cron_schedule="30 2 * * *",
    job=sync_job,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Nightly: load what changed and refresh every analytics view.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    when = context.scheduled_execution_time
    return incremental_request(when, f"nightly@{when.isoformat()}")


reconciliation_schedule = ScheduleDefinition(
    name="reconciliation_schedule",
    cron_schedule="0 4 * * 0",
    job=reconciliation_job,
    run_config=COMPACT_LOGS,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Weekly (Sunday 04:00): full id/date_updated comparison with the API.",
)

SCHEDULES = [incremental_schedule, nightly_schedule, reconciliation_schedule]
