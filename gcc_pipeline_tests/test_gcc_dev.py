"""`gcc dev`: the UI on the same state, quiet, and stopped whole by Ctrl-C or SIGTERM."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from gcc_pipeline import clock
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.sandbox.clock import LiveClock
from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline_tests.conftest import clean_environment


def free_port(after: int = 0) -> int:
    """A free port below the ephemeral range, so no server started meanwhile takes it (`after`:
    one above a port already chosen, not yet bound)."""
    for port in range(max(21000 + os.getpid() % 5000, after + 1), 30000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def graphql(port: int, text: str, variables: dict | None = None) -> dict:
    body = {"query": text, "variables": variables or {}}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell script's `gcc dev &` starts it


@pytest.mark.parametrize(
    ("stop_with", "started"),
    [(signal.SIGTERM, None), (signal.SIGINT, None), (signal.SIGTERM, _ignore_sigint)],
    ids=["SIGTERM", "Ctrl-C", "SIGTERM, started by a script with SIGINT ignored"],
)
def test_gcc_dev_serves_the_ui_quietly_and_a_signal_stops_the_whole_tree(
    tmp_path: Path, stop_with: signal.Signals, started
) -> None:
    port, home = free_port(), tmp_path / "state"
    env = clean_environment("XDG_RUNTIME_DIR")
    env |= {"GCC_HOME": str(home), "GCC_SANDBOX_JOBS": "40", "GCC_START_DATE": "2026-10-01"}
    # With the webhook secret (the Ctrl-C case), gcc dev also serves the webhook receiver, a
    # child of its own that the stop ends too.
    hooks = stop_with == signal.SIGINT and started is None
    hook_port = free_port(after=port)
    if hooks:
        env |= {"JOBNIMBUS_WEBHOOK_SECRET": "dev-hook-secret", "GCC_WEBHOOK_PORT": str(hook_port)}
    log = tmp_path / "dev.log"
    dev = subprocess.Popen(
        [sys.executable, "-m", "gcc_pipeline.cli", "dev", "--port", str(port)],
        env=env, cwd=PROJECT_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
        preexec_fn=started,
    )  # fmt: skip
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 240
        while True:
            assert dev.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI never answered:\n" + log.read_text()[-3000:]
            try:
                nodes = graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]
                break
            except OSError:
                time.sleep(1)  # ok: polling until the webserver listens
        assert {"jobs", "jobnimbus_raw_events"} <= {n["assetKey"]["path"][-1] for n in nodes}
        if hooks:
            hook = f"http://127.0.0.1:{hook_port}/webhooks/jobnimbus"
            refused = urllib.request.Request(hook, data=b"{}", method="POST")
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(refused, timeout=10)
            assert answer.value.code == 401  # no X-JN-Secret header
        time.sleep(5)  # ok: let the daemon tick once, so its output is in the log too
        tree = psutil.Process(dev.pid).children(recursive=True)
        assert len(tree) >= 3  # dagster dev, its webserver, daemon and code server

        dev.send_signal(stop_with)
        assert dev.wait(timeout=10) == 0  # a bounded stop: grace period, then the group
    finally:
        if dev.poll() is None:  # a failed test: stop gcc dev and everything it started
            leftovers = psutil.Process(dev.pid).children(recursive=True)
            dev.kill()
            for process in leftovers:
                with contextlib.suppress(psutil.Error):
                    process.kill()
        subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"], env=env,
                       capture_output=True, timeout=60)  # fmt: skip
    left = [p.pid for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], "processes of the Dagster tree outlived gcc dev"
    for listened in (port, hook_port) if hooks else (port,):
        with socket.socket() as probe:  # nothing listens on it any more (as a server would)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", listened))
            probe.listen()
    assert not (PROJECT_ROOT / ".nux").exists() or started is None  # Dagster's files: GCC_HOME
    output = log.read_text()
    noisy = [line for line in output.splitlines()
             if "Warning" in line or "DEBUG" in line or "will not be used" in line
             or "superseded" in line or "Traceback" in line]  # fmt: skip
    assert noisy == [], "\n".join(noisy[:20])


def test_a_live_sandbox_follows_the_clock_and_never_runs_ahead_of_it() -> None:
    born = datetime(2026, 11, 20, 12, tzinfo=UTC)
    server = start_sandbox(jobs=50, seed=3, api_key="live-key", anchor=born, future_days=30)
    live = LiveClock(server.company, tick_seconds=0.05)
    try:
        with clock.pinned(born + timedelta(hours=30)) as later:
            live.start()
            deadline = time.monotonic() + 30
            while server.company.now < later.timestamp():
                assert time.monotonic() < deadline, "the company never caught up with the clock"
                time.sleep(0.05)  # ok: polling with a deadline
            time.sleep(0.3)  # ok: several more ticks at the same clock
            assert server.company.now == int(later.timestamp())
            newest = max(j["date_updated"] for j in server.company.records("jobs"))
            assert newest <= later.timestamp()
    finally:
        live.stop()
        server.stop()


SENSOR = """{repositoryName: "__repository__", repositoryLocationName: "gcc_pipeline",
  sensorName: "jobnimbus_change_sensor"}"""
SENSOR_TICKS = f"""{{ sensorOrError(sensorSelector: {SENSOR}) {{ ... on Sensor {{ sensorState {{
  status ticks(limit: 5) {{ status skipReason error {{ message }} }} }} }} }} }}"""
DRY_RUN = """mutation($cursor: String) { sensorDryRun(selectorData: SENSOR, cursor: $cursor) {
  __typename ... on DryRunInstigationTick { evaluationResult { skipReason cursor
  error { message } runRequests { runKey } } } ... on PythonError { message } } }""".replace(
    "SENSOR", SENSOR
)


def test_plain_dagster_dev_in_the_folder_reads_the_built_in_sandbox_and_its_sensor_ticks(
    tmp_path: Path,
) -> None:
    """`dagster dev` by hand in the project folder, no key, no DAGSTER_HOME (GCC_HOME only to keep
    the test's state apart): the folder's instance, no temporary storage, and the change sensor
    asks the built-in sandbox instead of failing on a missing JOBNIMBUS_API_KEY."""
    port, home = free_port(), tmp_path / "state"
    env = clean_environment()
    env |= {"GCC_HOME": str(home), "GCC_SANDBOX_JOBS": "40", "PWD": str(PROJECT_ROOT),
            "GCC_START_DATE": "2026-10-01", "GCC_NOW": os.environ["GCC_NOW"]}  # fmt: skip
    migrated = subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "migrate"],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr  # the README's first step: gcc run or this
    log = tmp_path / "dagster-dev.log"
    dagster = str(Path(sys.executable).with_name("dagster"))
    dev = subprocess.Popen([dagster, "dev", "-p", str(port)], env=env, cwd=PROJECT_ROOT,
                           stdout=log.open("w"), stderr=subprocess.STDOUT,
                           start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while True:
            assert dev.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no UI:\n" + log.read_text()[-3000:]
            with contextlib.suppress(OSError, KeyError, TypeError):
                ticks = graphql(port, SENSOR_TICKS)["sensorOrError"]["sensorState"]["ticks"]
                if ticks:
                    break
            time.sleep(1)  # ok: polling until the daemon's first tick
        assert [t["status"] for t in ticks] == ["SKIPPED"], ticks  # its first tick sets a cursor
        since = (clock.now() - timedelta(days=3)).timestamp()
        dry = graphql(port, DRY_RUN, {"cursor": json.dumps({"since": since})})["sensorDryRun"]
        result = dry["evaluationResult"]
        assert result["error"] is None, result
        assert result["runRequests"] or result["skipReason"]  # it asked the sandbox
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(dev.pid, signal.SIGTERM)
        try:
            dev.wait(timeout=60)
        except subprocess.TimeoutExpired:  # Dagster's own stop is not what is tested here
            with contextlib.suppress(ProcessLookupError):
                os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
        subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"], env=env,
                       capture_output=True, timeout=60)  # fmt: skip
    output = log.read_text()
    assert "temporary directory" not in output and "JOBNIMBUS_API_KEY" not in output
