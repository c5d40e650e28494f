"""Schedules and sensors: the change sensor asks cheaply and requests only the affected
partitions; schedules run the latest windows; failures are recorded and posted."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import psycopg2

from gcc_pipeline import clock
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.partitions import latest_key
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.schedules import INCREMENTAL, incremental_schedule, nightly_schedule
from gcc_pipeline.sensors import jobnimbus_change_sensor, run_failure_recorder
from gcc_pipeline.warehouse.resource import WarehouseResource

KEY = "sensor-test-key"


def recent_sandbox(days_ago: int = 2):
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    anchor = today - timedelta(days=days_ago)
    return start_sandbox(jobs=150, seed=21, api_key=KEY, anchor=anchor, history_days=60), anchor


def evaluate(cursor: str | None, server) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"jobnimbus": JobNimbusResource(api_key=KEY, base_url=server.base_url)},
    )
    return jobnimbus_change_sensor(context)


def test_the_first_tick_only_sets_the_cursor() -> None:
    server, _ = recent_sandbox()
    try:
        result = evaluate(None, server)
        assert not result.run_requests
        assert json.loads(result.cursor)["since"] > 0
    finally:
        server.stop()


def test_the_change_sensor_requests_nothing_when_nothing_changed() -> None:
    server, anchor = recent_sandbox()
    try:
        since = (anchor + timedelta(hours=1)).timestamp()
        result = evaluate(json.dumps({"since": since}), server)

        assert not result.run_requests
        again = evaluate(result.cursor, server)  # the saved cursor, as after a restart
        assert not again.run_requests
    finally:
        server.stop()


def test_the_change_sensor_requests_an_incremental_run_after_the_clock_advances() -> None:
    server, anchor = recent_sandbox(days_ago=2)
    try:
        cursor = json.dumps({"since": (anchor + timedelta(hours=1)).timestamp()})
        server.company.advance(days=1)

        result = evaluate(cursor, server)

        (request,) = result.run_requests
        assert request.partition_key == latest_key()
        assert request.run_config == INCREMENTAL
        assert "jobs=" in request.tags["gcc/changes"]
    finally:
        server.stop()


def test_the_schedules_run_the_current_month_incrementally() -> None:
    when = datetime(2026, 3, 8, 10, 7, tzinfo=UTC)
    for schedule in (incremental_schedule, nightly_schedule):
        request = schedule(dg.build_schedule_context(scheduled_execution_time=when))
        assert request.partition_key == "2026-03-01"
        assert request.run_config == INCREMENTAL


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_failed_run_is_recorded_and_posted_to_the_webhook(warehouse_url, monkeypatch) -> None:
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()

    @dg.asset
    def exploding() -> None:
        raise RuntimeError("boom in the warehouse")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([exploding], instance=instance, raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_recorder",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
        resources={
            "warehouse": WarehouseResource(url=warehouse_url),
            "account": AccountResource(
                start_date="2024-01-01",
                failure_webhook_url=f"http://127.0.0.1:{hook.server_port}/hook",
            ),
        },
    ).for_run_failure()

    run_failure_recorder(context)

    hook.shutdown()
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_id, webhook_status FROM gcc_run_failures")
        assert cur.fetchall() == [(result.run_id, "204")]
    assert _Hook.received[-1]["run_id"] == result.run_id


def test_every_job_the_schedules_launch_runs_end_to_end(warehouse_url: str) -> None:
    from gcc_pipeline.definitions import defs
    from gcc_pipeline_tests.pipeline import resources, sandbox

    with sandbox(jobs=80, seed=31, history_days=40) as server:
        for name in ("sync_job", "ingest_job", "reconciliation_job"):
            job = defs.resolve_job_def(name)
            partitioned = name != "reconciliation_job"
            result = job.execute_in_process(
                instance=dg.DagsterInstance.ephemeral(),
                resources=resources(server, warehouse_url),
                partition_key=latest_key() if partitioned else None,
                raise_on_error=False,
            )
            assert result.success, name
            assert result.get_asset_materialization_events(), name
