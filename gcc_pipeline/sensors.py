"""Sensors: start a run only when the API reports changes, record failures, refresh views."""

import json
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from gcc_pipeline import clock
from gcc_pipeline.failures import record_failure
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.jobs import ingest_job
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.schedules import incremental_request
from gcc_pipeline.streams import STREAMS
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline.webhooks.sensor import jobnimbus_webhook_sensor

# Re-ask a little before the cursor: a record saved while the last tick ran is not missed.
CURSOR_SAFETY = timedelta(minutes=2)


@sensor(
    job=ingest_job,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Asks the API cheaply (one size=0 count per stream, window field past the "
    "cursor) and requests an incremental run only when something changed. Its cursor is kept "
    "by Dagster, so it survives restarts.",
)
def jobnimbus_change_sensor(
    context: SensorEvaluationContext, jobnimbus: JobNimbusResource
) -> SensorResult | SkipReason:
    now = clock.now()
    if not context.cursor:
        # First tick: the initial load is `gcc run` or a backfill, not a sensor run.
        return SensorResult(cursor=json.dumps({"since": now.timestamp()}), skip_reason="cursor set")
    since = datetime.fromtimestamp(json.loads(context.cursor)["since"], UTC)
    with jobnimbus.get_client() as client:
        changed = {s.name: client.count(s, start=since - CURSOR_SAFETY) for s in STREAMS}
    new_cursor = json.dumps({"since": now.timestamp()})
    if not any(changed.values()):
        return SensorResult(cursor=new_cursor, skip_reason=f"no change since {since.isoformat()}")
    summary = ", ".join(f"{name}={n}" for name, n in changed.items() if n)
    context.log.info(f"changes since {since.isoformat()}: {summary}")
    request = incremental_request(now, f"changes-{int(now.timestamp())}")
    return SensorResult(
        run_requests=[request.with_replaced_attrs(tags={"gcc/changes": summary[:200]})],
        cursor=new_cursor,
    )


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Records every failed run in gcc_run_failures and posts it to "
    "GCC_FAILURE_WEBHOOK_URL when that is set.",
)
def run_failure_recorder(
    context: RunFailureSensorContext, warehouse: WarehouseResource, account: AccountResource
) -> None:
    run = context.dagster_run
    with warehouse.connection() as conn:
        record_failure(
            conn,
            run_id=run.run_id,
            job_name=run.job_name,
            message=context.failure_event.message or "run failed",
            webhook_url=account.failure_webhook_url,
        )


# Declarative automation is evaluated by this sensor; Dagster would otherwise start it stopped.
analytics_automation = AutomationConditionSensorDefinition(
    "analytics_automation",
    target=AssetSelection.groups("analytics"),
    default_status=DefaultSensorStatus.RUNNING,
)

SENSORS = [
    jobnimbus_change_sensor,
    jobnimbus_webhook_sensor,
    run_failure_recorder,
    analytics_automation,
]
