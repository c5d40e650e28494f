"""The webhook sensor: every few seconds, one run for whatever webhooks arrived after its cursor.

Bursts coalesce: while a webhook run is queued or running no other is requested, and the next
one covers everything that arrived meanwhile (its range of event ids is its run key). The cursor
is the last event id handed to a run, kept by Dagster; a run that fails leaves its events
pending, and the poll (change sensor, hourly schedule) covers their records anyway.
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from gcc_pipeline import clock
from gcc_pipeline.jobs import COMPACT_LOGS, webhook_job
from gcc_pipeline.partitions import latest_key
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline.webhooks.storage import pending

INTERVAL_SECONDS = 5
ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
          DagsterRunStatus.STARTED]  # fmt: skip


def webhook_request(after: int, through: int) -> RunRequest:
    """One webhook run over the events (after, through] (the current month's partition)."""
    config = {"webhooks_after": after, "webhooks_through": through}
    return RunRequest(
        run_key=f"webhooks-{after + 1}-{through}",
        partition_key=latest_key(clock.now()),
        run_config={**COMPACT_LOGS, "ops": {"jobnimbus": {"config": config}}},
        tags={"gcc/webhooks": f"{after + 1}..{through}"},
    )


@sensor(
    job=webhook_job,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Requests one webhook_job run for the JobNimbus webhooks received since its "
    "cursor (an event id), unless a webhook run is already queued or running: bursts coalesce.",
)
def jobnimbus_webhook_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource
) -> SensorResult:
    with warehouse.connection() as conn:
        if context.cursor:
            after = int(context.cursor)
        else:  # first tick: from the oldest event still pending (none: from the newest)
            first = pending(conn, 0)
            if not first.count:
                return SensorResult(cursor=str(first.newest or 0), skip_reason="nothing pending")
            after = first.oldest_pending - 1
        found = pending(conn, after)
    if not found.newest:
        return SensorResult(cursor=str(after), skip_reason=f"no webhook after event {after}")
    running = context.instance.get_run_records(
        RunsFilter(job_name=webhook_job.name, statuses=ACTIVE), limit=1
    )
    if running:
        return SensorResult(
            cursor=str(after),
            skip_reason=f"{found.newest - after} event(s) wait for run "
            f"{running[0].dagster_run.run_id[:8]}",
        )
    return SensorResult(
        run_requests=[webhook_request(after, found.newest)], cursor=str(found.newest)
    )
