"""`gcc run`'s runs are runs of the code location: the UI (its GraphQL) lists them under sync_job
and re-executes them, all steps or from the failure, like any run it launched itself."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.settings import PROJECT_ROOT

REEXECUTE = """mutation($p: ReexecutionParams) { launchPipelineReexecution(reexecutionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
JOB_RUNS = """{ pipelineOrError(params: {pipelineName: "sync_job", repositoryName: "__repository__",
  repositoryLocationName: "gcc_pipeline"}) { ... on Pipeline { runs { runId status } } } }"""


def env_for(home: Path) -> dict[str, str]:
    ours = ("GCC_HOME", "JOBNIMBUS_", "DAGSTER_", "POSTGRES_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | {"GCC_HOME": str(home), "GCC_SANDBOX_JOBS": "40", "GCC_START_DATE": "2026-09-01"}


def gcc(home: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gcc_pipeline.cli", *args]
    return subprocess.run(command, env=env_for(home), capture_output=True, text=True,
                          timeout=600, cwd=PROJECT_ROOT)  # fmt: skip


def graphql(port: int, text: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": text, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, list[str]]]:
    """Two `gcc run`s (the second failed), then `gcc dev` on the same state."""
    home = tmp_path_factory.mktemp("launch") / "state"
    first = gcc(home, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    warehouse = gcc(home, "db", "url").stdout.strip()
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE payments RENAME TO payments_away")
    conn.close()
    failed = gcc(home, "run")
    assert failed.returncode == 1
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE payments_away RENAME TO payments")
    conn.close()
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "gcc_pipeline.cli", "dev", "--port", str(port)],
                           env=env_for(home), cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            assert dev.poll() is None and time.monotonic() < deadline, "gcc dev did not serve"
            with contextlib.suppress(OSError):
                runs = graphql(port, JOB_RUNS)["pipelineOrError"]["runs"]
                break
            time.sleep(1)  # ok: polling until the webserver listens
        yield home, port, [r["runId"] for r in reversed(runs)]
    finally:
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=30)
        gcc(home, "db", "stop")


def reexecute(port: int, parent: str, strategy: str) -> str:
    launched = graphql(port, REEXECUTE, {"p": {"parentRunId": parent, "strategy": strategy}})
    outcome = launched["launchPipelineReexecution"]
    assert outcome["__typename"] == "LaunchRunSuccess", outcome
    run_id = outcome["run"]["runId"]
    deadline = time.monotonic() + 240
    while True:
        found = graphql(port, RUN_STATUS, {"id": run_id})
        status = found["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        assert time.monotonic() < deadline, f"re-execution stayed {status}"
        time.sleep(1)  # ok: polling the daemon-launched run with a deadline


def test_gcc_runs_are_listed_under_their_job_with_their_code_location(ui) -> None:
    _, port, runs = ui
    assert len(runs) == 2  # both gcc runs, in sync_job's own runs (not only under /runs)
    origins = graphql(port, "{ runsOrError { ... on Runs { results { runId repositoryOrigin "
                            "{ repositoryLocationName repositoryName } } } } }")  # fmt: skip
    for run in origins["runsOrError"]["results"]:
        assert run["repositoryOrigin"] == {"repositoryLocationName": "gcc_pipeline",
                                           "repositoryName": "__repository__"}  # fmt: skip


def test_the_ui_re_executes_a_gcc_run_whole(ui) -> None:
    _, port, (succeeded, _) = ui
    assert reexecute(port, succeeded, "ALL_STEPS") == "SUCCESS"


def test_the_ui_re_executes_a_failed_gcc_run_from_its_failure(ui) -> None:
    _, port, (_, failed) = ui
    assert reexecute(port, failed, "FROM_FAILURE") == "SUCCESS"


ASSET_COLUMNS = """{ assetNodes { assetKey { path } description metadataEntries { label
  ... on TableSchemaMetadataEntry { schema { columns { name type description } } } } } }"""


def test_the_ui_shows_every_table_assets_columns_with_the_databases_comments(ui) -> None:
    from gcc_pipeline.warehouse.catalog import load_catalog

    home, port, _ = ui
    shown = {}
    for node in graphql(port, ASSET_COLUMNS)["assetNodes"]:
        for entry in node["metadataEntries"]:
            if entry["label"] == "dagster/column_schema":
                shown["/".join(node["assetKey"]["path"])] = entry["schema"]["columns"]
    warehouse = gcc(home, "db", "url").stdout.strip()
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:  # what psql's \d+ reads
        cur.execute("SELECT col_description('analytics.jobs_current'::regclass, 1), "
                    "col_description('payments'::regclass, 1)")  # fmt: skip
        jobs_current_first, payments_first = cur.fetchone()
    conn.close()
    catalog = load_catalog()["relations"]
    assert shown["jobs_current"][0]["description"] == jobs_current_first
    assert shown["payments"][0]["description"] == payments_first
    for name in ("jobs", "payments", "jobs_current", "revenue_by_month", "job_status_history"):
        relation = catalog[name if name in catalog else f"analytics.{name}"]
        assert [c["name"] for c in shown[name]] == [c["name"] for c in relation["columns"]]
        assert all(c["description"] for c in shown[name]), f"{name}: a column without a description"
