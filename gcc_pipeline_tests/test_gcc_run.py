"""The README's main job and the UI: `gcc run` on a tiny sandbox company ends with exit 0 and
the summary, its run is in the Dagster instance, and the webserver lists the assets."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gcc_pipeline.settings import PROJECT_ROOT

SECRET_KEY = "jn-secret-KEY-0451"


def gcc_env(home: Path, **extra: str) -> dict[str, str]:
    inherited = ("POSTGRES_URL", "JOBNIMBUS_API_KEY", "JOBNIMBUS_BASE_URL", "DAGSTER_HOME")
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(
        {"GCC_HOME": str(home), "GCC_SANDBOX_JOBS": "80", "GCC_START_DATE": "2026-09-01", **extra}
    )
    return env


@pytest.fixture(scope="module")
def gcc_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("gcc") / "state"
    yield home
    subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"], env=gcc_env(home),
                   capture_output=True, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def first_run(gcc_home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "run"],
        env=gcc_env(gcc_home),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PROJECT_ROOT,
    )


def test_gcc_run_on_defaults_exits_0_and_prints_the_summary(first_run) -> None:
    out = first_run.stdout
    assert first_run.returncode == 0, first_run.stderr[-3000:] + out[-3000:]
    assert "embedded PostgreSQL" in first_run.stderr
    assert "built-in sandbox" in first_run.stderr
    for expected in ("rows per table:", "jobs", "checks:", "0 failed", "revenue, last months",
                     "pipeline by stage"):  # fmt: skip
        assert expected in out


def test_gcc_run_records_its_run_in_the_instance_gcc_dev_opens(first_run, gcc_home: Path) -> None:
    code = (
        "from gcc_pipeline.environment import prepare; prepare(announce=lambda m: None)\n"
        "import dagster as dg\n"
        "i = dg.DagsterInstance.get(); runs = i.get_runs()\n"
        "print(len(runs), runs[0].status.value,"
        " i.get_latest_materialization_event(dg.AssetKey('jobs')) is not None)"
    )
    shown = subprocess.run([sys.executable, "-c", code], env=gcc_env(gcc_home),
                           capture_output=True, text=True, cwd=PROJECT_ROOT)  # fmt: skip

    assert shown.returncode == 0, shown.stderr[-2000:]
    count, status, materialized = shown.stdout.split()
    assert int(count) >= 1 and status == "SUCCESS" and materialized == "True"


def test_a_rejected_api_key_fails_the_run_without_appearing_in_gcc_output(gcc_home: Path) -> None:
    from gcc_pipeline.sandbox import start_sandbox

    server = start_sandbox(jobs=20, seed=2, api_key="the-right-key")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "gcc_pipeline.cli", "run"],
            env=gcc_env(gcc_home, JOBNIMBUS_API_KEY=SECRET_KEY, JOBNIMBUS_BASE_URL=server.base_url),
            capture_output=True,
            text=True,
            timeout=600,
            cwd=PROJECT_ROOT,
        )
    finally:
        server.stop()
    assert result.returncode != 0
    assert "rejected the API key" in result.stdout + result.stderr
    assert SECRET_KEY not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_definitions_validate(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
         "-m", "gcc_pipeline.definitions"],
        capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},  # validation needs no run storage
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_webserver_starts_and_its_graphql_api_lists_the_assets(first_run, gcc_home) -> None:
    port = free_port()
    env = gcc_env(gcc_home)
    code = (
        "import os, sys\nfrom gcc_pipeline.environment import prepare\n"
        "prepare(announce=lambda m: None)\n"
        "web = os.path.join(os.path.dirname(sys.executable), 'dagster-webserver')\n"
        f"os.execv(web, [web, '-w', 'workspace.yaml', '-h', '127.0.0.1', '-p', '{port}'])"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        query = json.dumps({"query": "{ assetNodes { assetKey { path } groupName } }"}).encode()
        deadline = time.monotonic() + 120
        nodes = None
        while time.monotonic() < deadline and nodes is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=10) as response:
                    nodes = json.load(response)["data"]["assetNodes"]
            except OSError:
                time.sleep(1)  # ok: polling until the webserver listens
        assert nodes is not None, "webserver did not answer"
        keys = {n["assetKey"]["path"][-1]: n["groupName"] for n in nodes}
        assert keys["raw_jobs"] == "raw" and keys["jobs"] == "normalized"
        assert keys["job_status_history"] == "history"
        assert keys["revenue_by_month"] == "analytics"
    finally:
        server.terminate()
        server.wait(timeout=30)
