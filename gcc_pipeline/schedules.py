"""Schedules: frequent incremental runs, a nightly run with analytics, a weekly reconciliation."""

import os

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from gcc_pipeline.jobs import ingest_job, nightly_job, reconciliation_job
from gcc_pipeline.partitions import daily_partitions
from gcc_pipeline.settings import load_settings

_settings = load_settings()


def latest_range_request(context: ScheduleEvaluationContext, days: int = 2) -> RunRequest:
    """One run over the last `days` partitions (today included): yesterday's tail is the overlap
    that catches records whose date_updated landed late."""
    when = context.scheduled_execution_time
    keys = daily_partitions.get_partition_keys(current_time=when)
    last = keys[-1]
    first = keys[max(0, len(keys) - days)]
    return RunRequest(
        run_key=f"{last}@{when.isoformat()}",
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


@schedule(
    cron_schedule=os.environ.get("GCC_INCREMENTAL_CRON") or "7 * * * *",
    job=ingest_job,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Hourly: fetch what changed in the latest two daily windows.",
)
def incremental_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    return latest_range_request(context)


@schedule(
    cron_schedule="30 2 * * *",
    job=nightly_job,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Nightly: ingest the latest windows and refresh every analytics view.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    return latest_range_request(context, days=3)


reconciliation_schedule = ScheduleDefinition(
    name="reconciliation_schedule",
    cron_schedule="0 4 * * 0",
    job=reconciliation_job,
    execution_timezone=_settings.timezone,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Weekly (Sunday 04:00): full id/date_updated comparison with the API.",
)

SCHEDULES = [incremental_schedule, nightly_schedule, reconciliation_schedule]
