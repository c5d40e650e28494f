"""Sensors: start a run only when the API reports changes, record failures, refresh views."""

import json
import os
from datetime import UTC, datetime, timedelta

import requests
from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from gcc_pipeline.jobnimbus import WINDOWED_RESOURCES, JobNimbusResource
from gcc_pipeline.jobs import ingest_job
from gcc_pipeline.partitions import daily_partitions
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

# Re-ask a little before the cursor: a record saved while the last tick ran is not missed.
CURSOR_SAFETY = timedelta(minutes=2)


def _partition_range(since: datetime, now: datetime) -> tuple[str, str]:
    keys = daily_partitions.get_partition_keys(current_time=now)
    first = daily_partitions.get_partition_key_for_timestamp(since.timestamp())
    return (first if first >= keys[0] else keys[0]), keys[-1]


@sensor(
    job=ingest_job,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Asks the API cheaply (one size=0 count per resource, date_updated past "
    "the cursor) and requests an ingestion run of the affected partitions only when something "
    "changed. Its cursor is kept by Dagster, so it survives restarts.",
)
def jobnimbus_change_sensor(
    context: SensorEvaluationContext, jobnimbus: JobNimbusResource
) -> SensorResult | SkipReason:
    now = datetime.now(UTC)
    if not context.cursor:
        # First tick: the initial load is a backfill (`gcc run`), not a sensor run.
        return SensorResult(cursor=json.dumps({"since": now.timestamp()}), skip_reason="cursor set")
    since = datetime.fromtimestamp(json.loads(context.cursor)["since"], UTC)
    with jobnimbus.get_client() as client:
        changed = {r: client.count(r, start=since - CURSOR_SAFETY) for r in WINDOWED_RESOURCES}
    new_cursor = json.dumps({"since": now.timestamp()})
    if not any(changed.values()):
        return SensorResult(cursor=new_cursor, skip_reason=f"no change since {since.isoformat()}")
    first, last = _partition_range(since - CURSOR_SAFETY, now)
    summary = ", ".join(f"{r}={n}" for r, n in changed.items() if n)
    context.log.info(f"changes since {since.isoformat()}: {summary}")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"changes-{int(now.timestamp())}",
                tags={
                    "dagster/asset_partition_range_start": first,
                    "dagster/asset_partition_range_end": last,
                    "gcc/changes": summary[:200],
                },
            )
        ],
        cursor=new_cursor,
    )


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Records every failed run in gcc_run_failures and posts it to "
    "GCC_FAILURE_WEBHOOK_URL when that is set.",
)
def run_failure_recorder(context: RunFailureSensorContext, warehouse: WarehouseResource) -> None:
    run = context.dagster_run
    message = (context.failure_event.message or "run failed")[:2000]
    webhook = os.environ.get("GCC_FAILURE_WEBHOOK_URL")
    status = None
    if webhook:
        try:
            response = requests.post(
                webhook,
                json={"run_id": run.run_id, "job": run.job_name, "message": message},
                timeout=10,
            )
            status = str(response.status_code)
        except requests.RequestException as exc:
            status = f"error: {type(exc).__name__}"
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        cur.execute(
            query("record_run_failure"),
            {"run_id": run.run_id, "job_name": run.job_name, "message": message,
             "webhook_status": status},
        )  # fmt: skip


# Declarative automation is evaluated by this sensor; Dagster would otherwise start it stopped.
analytics_automation = AutomationConditionSensorDefinition(
    "analytics_automation",
    target=AssetSelection.groups("analytics"),
    default_status=DefaultSensorStatus.RUNNING,
)

SENSORS = [jobnimbus_change_sensor, run_failure_recorder, analytics_automation]
