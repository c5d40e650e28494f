"""JobNimbus webhooks: real HTTP to a real receiver, real PostgreSQL, a real sensor and run.

A webhook is answered 2xx only once it is committed; a bad secret, a body that is not JSON or one
over 1 MiB is refused and stores nothing; a repeated delivery changes nothing; a receiver killed
after answering loses nothing; the webhook run fetches the named records from the API, and the
warehouse then equals a fresh load of the same company. The secret is in no log and no table.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import requests
import uvicorn

from gcc_pipeline import clock
from gcc_pipeline.definitions import defs
from gcc_pipeline.jobs import WEBHOOK_SELECTION
from gcc_pipeline.partitions import latest_key
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.sandbox.clock import LiveClock
from gcc_pipeline.sandbox.company import RESOURCES
from gcc_pipeline.sandbox.webhooks import WebhookSender, deliveries
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline.webhooks.app import MAX_BODY, PATH, build_app
from gcc_pipeline.webhooks.sensor import jobnimbus_webhook_sensor
from gcc_pipeline.webhooks.storage import mark_processed, purge, store, understand
from gcc_pipeline_tests.conftest import clean_environment, create_database, drop_database
from gcc_pipeline_tests.pipeline import full_backfill, resources, sandbox
from gcc_pipeline_tests.warehouse_state import table_checksums

SECRET = "Wh-s3cret-4f9a1c0e"
DAY = 86400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def receiver(warehouse_url: str) -> Iterator[str]:
    """The receiver app served by uvicorn in this process (its logs reach caplog)."""
    port = free_port()
    config = uvicorn.Config(
        build_app(SECRET, warehouse_url), host="127.0.0.1", port=port, log_level="warning",
        access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.02)  # ok: polling uvicorn's started flag with a deadline
    try:
        yield f"http://127.0.0.1:{port}{PATH}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def receiver_process(warehouse_url: str, port: int, log: Path) -> subprocess.Popen:
    """`gcc webhook` as a user starts it, answering once /health does."""
    env = clean_environment() | {
        "GCC_WAREHOUSE_URL": warehouse_url, "GCC_HOME": str(log.parent / "state"),
        "GCC_WEBHOOK_PORT": str(port), "JOBNIMBUS_WEBHOOK_SECRET": SECRET,
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gcc_pipeline.cli", "webhook"], env=env,
        stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)  # ok: polling /health with a deadline
    process.kill()
    raise AssertionError("the receiver did not start: " + log.read_text())


def post(url: str, document: object, *, secret: str | None = SECRET, **kwargs) -> requests.Response:
    headers = {"X-JN-Secret": secret} if secret is not None else {}
    raw = isinstance(document, bytes) or hasattr(document, "__next__")  # bytes, or chunks
    data = document if raw else json.dumps(document).encode()
    return requests.post(
        url, data=data, headers={**headers, "Content-Type": "application/json"}, timeout=10,
        **kwargs,
    )  # fmt: skip


def scalar(conn, statement: str, params: object = None) -> object:
    with conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0]


def events(conn) -> int:
    return scalar(conn, "SELECT count(*) FROM jobnimbus_webhook_events")


def secret_in_database(conn) -> int:
    """Rows of any warehouse table whose text holds the secret."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cur.fetchall()]
        found = 0
        for table in tables:
            cur.execute(
                f'SELECT count(*) FROM "{table}" t WHERE to_jsonb(t)::text LIKE %s',
                (f"%{SECRET}%",),
            )
            found += cur.fetchone()[0]
        return found


JOB = {"jnid": "jabc123", "type": "job", "status_name": "Lead", "date_updated": 1790000000}


def test_bad_secrets_and_bad_bodies_are_refused_and_store_nothing(
    warehouse_url: str, db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with receiver(warehouse_url) as url:
        assert post(url, JOB, secret=None).status_code == 401
        assert post(url, JOB, secret="wrong").status_code == 401
        assert post(url, JOB, secret=SECRET[:-1]).status_code == 401
        assert post(url, JOB, secret=SECRET + "x").status_code == 401
        assert post(url, b"{not json", secret=SECRET).status_code == 400
        assert post(url, b"\xff\xfe", secret=SECRET).status_code == 400
        assert post(url, b'{"jnid": "j1", "total": NaN}').status_code == 400
        assert post(url, b'{"jnid": "j1", "note": "a\\u0000b"}').status_code == 400
        big = json.dumps({"jnid": "j1", "note": "x" * MAX_BODY}).encode()
        assert post(url, big).status_code == 413
        chunked = post(url, iter([big[i : i + 65536] for i in range(0, len(big), 65536)]))
        assert chunked.status_code == 413  # no Content-Length: counted as it arrives
        assert events(db) == 0

        answer = post(url, JOB)
        assert answer.status_code == 200
        assert answer.json()["jnid"] == "jabc123"
        assert SECRET not in answer.text
    assert events(db) == 1
    assert secret_in_database(db) == 0
    assert SECRET not in caplog.text
    assert "401" in caplog.text  # the access log is there, and does not carry the secret


def test_a_duplicate_changes_nothing_and_a_burst_is_all_stored(warehouse_url: str, db) -> None:
    documents = [
        {"jnid": f"j{i:04d}", "type": "job", "date_updated": 1790000000 + i} for i in range(300)
    ]
    wrapped = [{"body": d} for d in documents[:50]]  # the same records, in an envelope
    repeats = documents[:100] + wrapped
    with receiver(warehouse_url) as url, ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        answers = list(pool.map(lambda d: post(url, d), documents + repeats))
        seconds = time.monotonic() - started

    assert [a.status_code for a in answers] == [200] * len(answers)
    assert events(db) == 300
    duplicates = [a.json()["duplicate"] for a in answers[300:]]
    assert duplicates == [True] * len(repeats)
    assert scalar(db, "SELECT count(DISTINCT jnid) FROM jobnimbus_webhook_events") == 300
    assert seconds < 30  # 450 requests; the bench measures the real figure


def test_the_receiver_refuses_to_start_without_its_secret(tmp_path: Path) -> None:
    env = clean_environment() | {"GCC_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "webhook"], env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "JOBNIMBUS_WEBHOOK_SECRET is not set" in result.stderr


def run_request(instance: dg.DagsterInstance, warehouse_url: str, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"warehouse": WarehouseResource(url=warehouse_url)},
    )  # fmt: skip
    return jobnimbus_webhook_sensor(context)


def webhook_run(server, warehouse_url: str, instance, request) -> dg.ExecuteInProcessResult:
    """The job the sensor targets, as the daemon runs it (its run config, partition and tags)."""
    return dg.materialize(
        list(defs.assets), selection=WEBHOOK_SELECTION, resources=resources(server, warehouse_url),
        instance=instance,
        partition_key=request.partition_key, tags=request.tags,
        run_config={"ops": request.run_config["ops"]},
    )  # fmt: skip


def sync_states(conn) -> list:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM jobnimbus_sync_state ORDER BY 1")
        return cur.fetchall()


def test_webhooks_survive_a_killed_receiver_and_the_run_equals_a_fresh_load(
    warehouse_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    with sandbox(jobs=120, seed=21, history_days=60) as server:
        full_backfill(server, warehouse_url)
        conn = psycopg2.connect(warehouse_url)
        conn.autocommit = True
        marks = sync_states(conn)
        company = server.company
        changes = company.advance_to_changes(company.now + 3 * DAY)
        posts = deliveries(changes, RESOURCES)  # every stream's changes, some twice, some wrapped
        assert len(posts) > 50
        half = len(posts) // 2
        port = free_port()
        log = tmp_path / "receiver.log"
        url = f"http://127.0.0.1:{port}{PATH}"

        first = receiver_process(warehouse_url, port, log)
        for query, document in posts[:half]:
            assert post(f"{url}?{query}", document).status_code == 200
        os.killpg(first.pid, signal.SIGKILL)  # acknowledged, not yet processed
        first.wait(timeout=10)
        acknowledged = events(conn)
        assert acknowledged > 0

        second = receiver_process(warehouse_url, port, log)
        try:
            for query, document in posts[half:] + posts[:10]:  # and ten deliveries again
                assert post(f"{url}?{query}", document).status_code == 200
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(timeout=15)
        distinct = {json.dumps([q, d], sort_keys=True) for q, d in posts}
        assert events(conn) == len(distinct)

        instance = dg.DagsterInstance.ephemeral()
        result = run_request(instance, warehouse_url, None)
        (request,) = result.run_requests
        assert request.partition_key == latest_key()
        assert webhook_run(server, warehouse_url, instance, request).success
        assert scalar(conn, "SELECT count(*) FROM jobnimbus_webhook_events "
                            "WHERE processed_at IS NULL") == 0  # fmt: skip
        assert sync_states(conn) == marks  # the poll's marks did not move
        api = {j["jnid"]: j["status_name"] for j in company.records("jobs")}
        with conn.cursor() as cur:
            cur.execute("SELECT id, status_name FROM jobs")
            assert dict(cur.fetchall()) == api
            cur.execute(  # the view the dashboards read was refreshed in the same run
                "SELECT count(*) FROM analytics.jobs_current v JOIN jobs j ON j.id = v.job_id "
                "WHERE v.status_name IS DISTINCT FROM j.status_name"
            )
            assert cur.fetchone()[0] == 0

        # Nothing pending: the next tick asks for nothing; the same run again changes nothing.
        assert not run_request(instance, warehouse_url, result.cursor).run_requests
        after = table_checksums(conn)
        assert webhook_run(server, warehouse_url, instance, request).success
        assert table_checksums(conn) == after

        fresh = create_database(pg_server_url)
        try:
            migrate(fresh)
            full_backfill(server, fresh)
            with psycopg2.connect(fresh) as other:
                assert table_checksums(other) == after
        finally:
            drop_database(pg_server_url, fresh)
        assert secret_in_database(conn) == 0
        conn.close()
    assert SECRET not in log.read_text()


def test_a_deleted_record_is_marked_inactive_only_once_the_api_no_longer_lists_it(
    warehouse_url: str, db
) -> None:
    with sandbox(jobs=20, seed=5) as server:
        alive = next(iter(server.company.records("contacts")))["jnid"]
        job = next(iter(server.company.records("jobs")))
        with db.cursor() as cur:  # rows landed earlier whose records the API has since lost
            cur.execute(
                "INSERT INTO contacts (id, display_name, is_active) VALUES "
                "('cgone1', 'Hard deleted', true), ('cgone2', 'Not said deleted', true)"
            )
        with receiver(warehouse_url) as url:
            for jnid, event in (("cgone1", "deleted"), ("cgone2", "modified"), (alive, "deleted")):
                body = {"jnid": jnid, "type": "contact"}
                assert post(f"{url}?event={event}", body).status_code == 200
            # A job, into a warehouse no run has loaded yet (`gcc dev` before any `gcc run`): the
            # webhook run builds the stage lookup it is staged with.
            assert post(f"{url}?type=job", {"jnid": job["jnid"]}).status_code == 200

        instance = dg.DagsterInstance.ephemeral()
        (request,) = run_request(instance, warehouse_url, None).run_requests
        assert webhook_run(server, warehouse_url, instance, request).success

    with db.cursor() as cur:
        cur.execute("SELECT id, is_active FROM contacts WHERE id IN ('cgone1', 'cgone2', %s)",
                    (alive,))  # fmt: skip
        assert dict(cur.fetchall()) == {"cgone1": False, "cgone2": True, alive: True}
        cur.execute("SELECT status_name, stage FROM jobs WHERE id = %s", (job["jnid"],))
        status, stage = cur.fetchone()
    assert status == job["status_name"] and stage not in (None, "(unmapped)")


def test_the_living_sandbox_posts_a_webhook_for_each_change_it_makes(
    warehouse_url: str, db
) -> None:
    born = datetime(2026, 11, 20, 12, tzinfo=UTC)
    server = start_sandbox(jobs=60, seed=3, api_key="live-key", anchor=born, future_days=30)
    live = LiveClock(server.company, tick_seconds=0.05)
    try:
        with receiver(warehouse_url) as url:
            sender = WebhookSender(url, SECRET)
            live.on_change = sender.send
            with clock.pinned(born):
                live.start()
            with clock.pinned(born + timedelta(days=5)) as later:
                deadline = time.monotonic() + 30
                while server.company.now < later.timestamp():
                    assert time.monotonic() < deadline, "the company never caught up"
                    time.sleep(0.05)  # ok: polling with a deadline
                live.stop(wait=30)  # the last tick's webhooks posted
    finally:
        live.stop()
        server.stop()

    assert sender.sent > 0 and sender.failed == 0
    assert SECRET not in repr(sender)
    with db.cursor() as cur:
        cur.execute(
            "SELECT entity_type, event, count(*) FROM jobnimbus_webhook_events GROUP BY 1, 2"
        )
        seen = {(t, e): n for t, e, n in cur.fetchall()}
    automation = {"contact", "job", "task", "workorder", "materialorder", "activity"}
    assert {t for t, _ in seen} <= automation
    assert ("job", "modified") in seen and ("activity", "created") in seen
    assert sum(seen.values()) <= sender.sent  # deliveries sent twice are stored once


def test_the_sensor_asks_one_run_for_what_is_pending_failed_runs_included(
    warehouse_url: str, db
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    nothing = run_request(instance, warehouse_url, None)
    assert not nothing.run_requests and nothing.cursor == "0"
    for i in range(3):
        store(db, understand({"jnid": f"j{i}", "type": "job"}, type_hint=None, event_hint=None))

    (first,) = run_request(instance, warehouse_url, nothing.cursor).run_requests
    assert first.run_key == "webhooks-1-3"
    assert first.run_config["ops"]["jobnimbus"]["config"] == {
        "webhooks_after": 0,
        "webhooks_through": 3,
    }
    # That run failed after processing nothing: the next arrival takes its events again, once.
    store(db, understand({"jnid": "j3", "type": "job"}, type_hint=None, event_hint="deleted"))
    (again,) = run_request(instance, warehouse_url, "3").run_requests
    assert again.run_key == "webhooks-1-4"
    mark_processed(db, 0, 4, "a-run")
    done = run_request(instance, warehouse_url, "4")
    assert not done.run_requests and done.cursor == "4"

    # Processed events are kept a month for audit, then purged (by a webhook run).
    with db.cursor() as cur:
        cur.execute("UPDATE jobnimbus_webhook_events SET processed_at = now() - interval '31 days' "
                    "WHERE id = 1")  # fmt: skip
    assert purge(db) == 1
    assert events(db) == 3


def test_without_the_database_nothing_is_acknowledged(
    pg_server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = create_database(pg_server_url)
    migrate(url)
    with receiver(url) as hook:
        assert post(hook, JOB).status_code == 200
        drop_database(pg_server_url, url)  # the warehouse goes away (a restart, a blip)
        answer = post(hook, {**JOB, "status_name": "Sold"})
    assert answer.status_code == 503  # not acknowledged: the sender may retry, the poll will
    assert "retry" in answer.json()["message"]
    assert SECRET not in answer.text and SECRET not in caplog.text
