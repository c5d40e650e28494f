"""The project under a real `dagster-webserver` and `dagster-daemon`, driven the way the UI does
it (GraphQL): a schedule's incremental run launched by the daemon completes; asset backfills of
every kind of selection launch and complete; a run whose worker is killed mid-step is failed
and does not hold back the next one.

The webserver and daemon start in the project folder with DAGSTER_HOME=$PWD and nothing else
about Dagster exported: dagster.yaml finds the state under GCC_HOME by itself.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gcc_pipeline import clock
from gcc_pipeline.sandbox import FaultConfig, SandboxServer, start_sandbox
from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline_tests.conftest import clean_environment
from gcc_pipeline_tests.test_gcc_dev import free_port

KEY = "daemon-test-key-31"
BIN = Path(sys.executable).parent
# The backfill and scheduler loops sleep a fixed 30 s between iterations; 2 s keeps the test short.
DAEMON = (
    "import sys, dagster._daemon.controller as c; c.DEFAULT_DAEMON_INTERVAL_SECONDS = 2; "
    "from dagster._daemon.cli import main; "
    "sys.argv = ['dagster-daemon', 'run', '-w', sys.argv[1]]; main()"
)
TERMINAL_BACKFILL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
TERMINAL_RUN = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class Stack:
    port: int
    home: Path
    sandbox: SandboxServer
    env: dict[str, str]

    def gql(self, text: str, variables: dict | None = None) -> dict[str, Any]:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:  # GraphQL errors come back as HTTP 500 + JSON
            return json.load(error)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("daemon") / "state"
    today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    sandbox = start_sandbox(jobs=60, seed=17, api_key=KEY, anchor=today, history_days=75)
    env = clean_environment() | {
        "GCC_HOME": str(home), "DAGSTER_HOME": str(PROJECT_ROOT), "GCC_TIMEZONE": "UTC",
        "JOBNIMBUS_API_KEY": KEY, "JOBNIMBUS_BASE_URL": sandbox.base_url,
        "GCC_START_DATE": (today - timedelta(days=80)).date().isoformat(),
        "GCC_INCREMENTAL_CRON": "* * * * *",  # a scheduled run every minute
    }  # fmt: skip
    migrated = subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "migrate"],
                              env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    commands = {
        "webserver": [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1",
                      "-p", str(port)],
        "daemon": [sys.executable, "-c", DAEMON, "workspace.yaml"],
    }  # fmt: skip
    logs = {name: (home.parent / f"{name}.log") for name in commands}
    processes = [
        subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True,
                         stdout=logs[name].open("w"), stderr=subprocess.STDOUT)
        for name, command in commands.items()
    ]  # fmt: skip
    result = Stack(port, home, sandbox, env)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert all(p.poll() is None for p in processes), {n: f.read_text()[-2000:]
                                                              for n, f in logs.items()}  # fmt: skip
            assert time.monotonic() < deadline, "the code location never loaded"
            try:
                answer = result.gql("{ workspaceOrError { ... on Workspace { locationEntries "
                                    "{ loadStatus } } } }")  # fmt: skip
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(0.5)  # ok: polling until the webserver answers
        yield result
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        sandbox.stop()
        subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"], env=env,
                       capture_output=True, timeout=60)  # fmt: skip


RUNS = """query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
  results { runId jobName status tags { key value } } } } }"""


def runs(stack: Stack, **tags: str) -> list[dict]:
    flt = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
    return stack.gql(RUNS, {"filter": flt})["data"]["runsOrError"]["results"]


def wait_for(predicate, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)  # ok: polling the daemon's progress with a deadline


def test_the_daemon_launches_a_scheduled_incremental_run_that_completes(stack: Stack) -> None:
    def finished() -> list[dict]:
        done = runs(stack, **{"dagster/schedule_name": "incremental_schedule"})
        return [r for r in done if r["status"] in TERMINAL_RUN]

    (run, *_) = wait_for(finished, 240, "a scheduled run")
    assert run["jobName"] == "ingest_job" and run["status"] == "SUCCESS", run


LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(
  backfillParams: $params) { __typename ... on LaunchBackfillSuccess { backfillId }
  ... on PythonError { message } ... on PartitionKeysNotFoundError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status runs(limit: 100) { runId status } } } }"""
MONTHS = lambda n: [  # noqa: E731 - the last n months, as the UI lists partition names
    (clock.now().replace(day=1) - timedelta(days=31 * i)).replace(day=1).date().isoformat()
    for i in range(n)
]
INGESTION = ["jobnimbus_raw_events", "contacts", "jobs", "payments", "expenses",
             "jobnimbus_status_changes"]  # fmt: skip
NORMALIZED_GROUP = ["contacts", "jobs", "payments", "expenses", "jobnimbus_status_changes",
                    "sales_reps", "workflow_status_lookup", "reconciliation"]  # fmt: skip


@pytest.mark.parametrize(
    ("keys", "partitions"),
    [
        (["expenses"], MONTHS(1)),  # one asset: its raw inputs are not asked for
        (["expenses"], MONTHS(3)),  # a range
        (NORMALIZED_GROUP, MONTHS(2)),  # a group, partitioned and not
        (["workflow_status_lookup", *INGESTION, "job_status_history"], None),  # all partitions
    ],
    ids=["one-asset", "one-asset-range", "group", "ingestion-all-partitions"],
)
def test_an_asset_backfill_launched_as_the_ui_does_completes(
    stack: Stack, keys: list[str], partitions: list[str] | None
) -> None:
    params: dict[str, Any] = {"assetSelection": [{"path": [k]} for k in keys],
                              "fromFailure": False, "tags": []}  # fmt: skip
    if partitions is None:
        params["allPartitions"] = True
    else:
        params["partitionNames"] = partitions
    launched = stack.gql(LAUNCH_BACKFILL, {"params": params})["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched

    def done() -> dict | None:
        found = stack.gql(BACKFILL, {"id": launched["backfillId"]})["data"]
        backfill = found["partitionBackfillOrError"]
        return backfill if backfill.get("status") in TERMINAL_BACKFILL else None

    backfill = wait_for(done, 300, "the backfill")
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert backfill["runs"] and all(r["status"] == "SUCCESS" for r in backfill["runs"])


LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchPipelineExecution(
  executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""


def launch_ingest(stack: Stack) -> str:
    params = {
        "selector": {"repositoryLocationName": "gcc_pipeline", "repositoryName": "__repository__",
                     "jobName": "ingest_job"},
        "runConfigData": {"ops": {"jobnimbus": {"config": {"incremental": True}}}},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": MONTHS(1)[0]}]},
    }  # fmt: skip
    answer = stack.gql(LAUNCH_RUN, {"params": params})["data"]["launchPipelineExecution"]
    assert answer["__typename"] == "LaunchRunSuccess", answer
    return answer["run"]["runId"]


def run_status(stack: Stack, run_id: str) -> str:
    answer = stack.gql(
        "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id}
    )
    return answer["data"]["runOrError"]["status"]


def worker_pid(stack: Stack, run_id: str) -> int | None:
    """The pid on the run's latest event: the run worker, where the steps execute."""
    code = (
        "import sys\nfrom gcc_pipeline.pipeline_run import instance_for\n"
        "from gcc_pipeline.settings import load_settings\n"
        f"records = instance_for(load_settings()).get_records_for_run({run_id!r}, ascending=False,"
        " limit=20).records\n"
        "events = [r.event_log_entry.dagster_event for r in records"
        " if r.event_log_entry.step_key]\n"
        "pids = [e.pid for e in events if e is not None and e.pid]\n"
        "print(pids[0] if pids else '')"
    )
    shown = subprocess.run([sys.executable, "-c", code], env=stack.env, cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    return int(shown.stdout) if shown.stdout.strip() else None


def test_a_run_killed_mid_step_is_failed_and_does_not_hold_back_the_next(stack: Stack) -> None:
    stack.sandbox.faults = FaultConfig(rate_slow=1.0, slow_seconds=2.0)  # every page takes 2 s
    try:
        doomed = launch_ingest(stack)
        pid = wait_for(lambda: worker_pid(stack, doomed), 180, "the run's step to start")
        os.kill(pid, signal.SIGKILL)
        status = wait_for(
            lambda: (s := run_status(stack, doomed)) in TERMINAL_RUN and s, 120, "the dead run"
        )
        assert status == "FAILURE"
    finally:
        stack.sandbox.faults = FaultConfig()

    following = launch_ingest(stack)
    status = wait_for(
        lambda: (s := run_status(stack, following)) in TERMINAL_RUN and s, 240, "the next run"
    )
    assert status == "SUCCESS"
