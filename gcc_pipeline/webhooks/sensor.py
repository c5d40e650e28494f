"""The webhook sensor: every few seconds, one run for whatever webhooks are pending.

Bursts coalesce: while a webhook run is queued or running no other is requested, and the next
one covers everything that arrived meanwhile. A run covers the events from the oldest still
pending to the newest (that range is its run key), so the events of a run that failed (the
daemon restarted, the API was down) are taken again with the next arrivals; Dagster never
launches one run key twice, so a failure does not repeat every tick. The poll (change sensor,
hourly schedule) covers those records anyway. The cursor is the newest event handed to a run.
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
    description="Requests one webhook_job run for the JobNimbus webhooks pending (received, not "
    "yet processed), unless a webhook run is already queued or running: bursts coalesce.",
)
def jobnimbus_webhook_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource
) -> SensorResult:
    with warehouse.connection() as conn:
        found = pending(conn)
    cursor = context.cursor or "0"
    if not found.count or found.oldest_pending is None or found.newest is None:
        return SensorResult(cursor=str(found.newest or 0), skip_reason="no webhook pending")
    running = context.instance.get_run_records(
        RunsFilter(job_name=webhook_job.name, statuses=ACTIVE), limit=1
    )
    if running:
        return SensorResult(
            cursor=cursor,
            skip_reason=f"{found.count} webhook(s) wait for run "
            f"{running[0].dagster_run.run_id[:8]}",
        )
    after = found.oldest_pending - 1
    return SensorResult(
        run_requests=[webhook_request(after, found.newest)], cursor=str(found.newest)
    )
