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
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline.streams import STREAMS

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
    # Quiet: no Beta/Preview/runtime-folder warnings, no DEBUG events, no traces.
    for noise in ("Warning", "DEBUG", "Traceback"):
        assert noise not in first_run.stderr, noise
    for expected in ("rows per table:", "jobs", "checks:", "0 failed", "revenue, last months",
                     "pipeline by stage"):  # fmt: skip
        assert expected in out


def test_gcc_run_records_its_run_as_sync_job_in_the_instance_gcc_dev_opens(
    first_run, gcc_home: Path
) -> None:
    # Nothing exported but GCC_HOME: the instance is found from dagster.yaml alone.
    code = (
        "import dagster as dg\n"
        "from gcc_pipeline.pipeline_run import instance_for\n"
        "from gcc_pipeline.settings import load_settings\n"
        "i = instance_for(load_settings()); runs = i.get_runs()\n"
        "planned = [r.event_log_entry.dagster_event for r in i.get_records_for_run(\n"
        "    runs[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,\n"
        "    limit=100_000).records]\n"
        "jobs = i.get_asset_records([dg.AssetKey('jobs')])[0].asset_entry\n"
        "print(len(runs), runs[-1].status.value, runs[-1].job_name,"
        " i.get_latest_materialization_event(dg.AssetKey('jobs')) is not None,"
        " len(planned), len({(e.asset_key, e.partition) for e in planned}),"
        " jobs.last_run_id == runs[0].run_id)"
    )
    shown = subprocess.run([sys.executable, "-c", code], env=gcc_env(gcc_home),
                           capture_output=True, text=True, cwd=PROJECT_ROOT)  # fmt: skip

    assert shown.returncode == 0, shown.stderr[-2000:]
    count, status, job, materialized, planned, distinct, last_run = shown.stdout.split()
    assert int(count) >= 1 and status == "SUCCESS" and materialized == "True"
    assert job == "sync_job"
    # The planned events (stored as one batch) are one per month of each asset, as the UI
    # expects, and the asset index names the run.
    assert int(planned) == int(distinct) > 24 and last_run == "True"


def test_the_views_are_refreshed_on_analyzed_tables(first_run, gcc_home) -> None:
    """A first load fills every table at once; the views must not be planned on statistics
    from before it (autovacuum analyzes in its own time)."""
    conn = warehouse(gcc_home)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('jobs', "
                "'job_status_history', 'payments', 'expenses', 'contacts', 'sales_reps') "
                "AND coalesce(last_analyze, last_autoanalyze) IS NULL"
            )
            assert cur.fetchall() == []
    finally:
        conn.close()


def test_a_second_gcc_run_catches_up_and_fetches_only_the_overlap(first_run, gcc_home) -> None:
    second = gcc_run(gcc_home)

    assert second.returncode == 0, second.stderr[-3000:]
    assert "catching up from" in second.stderr.split("sync_job")[0]  # said before the run
    # Checks of tables nothing changed are not evaluated, by design: no Dagster warning says so.
    assert "did not yield" not in second.stderr and "Warning" not in second.stderr
    fetched = ingestion_log(gcc_home)
    first_id, second_id = list(fetched)[:2]
    assert fetched[second_id]["requests"] == len(STREAMS)  # one per stream: nothing new
    assert fetched[second_id]["fetched"] < fetched[first_id]["fetched"] / 10


def test_gcc_run_full_and_since_reload_what_they_say(first_run, gcc_home) -> None:
    since = gcc_run(gcc_home, "--since", "2026-10-15")
    assert since.returncode == 0, since.stderr[-3000:]
    assert "reloading from 2026-10-15 (--since)" in since.stderr
    full = gcc_run(gcc_home, "--full")
    assert full.returncode == 0, full.stderr[-3000:]
    assert "--full: every month from 2026-09" in full.stderr
    runs = list(ingestion_log(gcc_home).values())
    assert runs[-1]["fetched"] == runs[0]["fetched"]  # --full: everything again
    assert runs[0]["by_id"] > 0 and runs[-1]["by_id"] == 0  # referenced records: once
    assert runs[0]["fetched"] > runs[-2]["fetched"] > runs[1]["fetched"]


def test_a_start_date_years_before_the_account_began_costs_nothing_extra(tmp_path: Path) -> None:
    """The sandbox's history is one year; GCC_START_DATE seven years back adds no partitions, no
    requests for empty months, and the next run still catches up instead of reloading."""
    home = tmp_path / "state"
    try:
        first = gcc_run(home, GCC_START_DATE="2019-01-01")
        second = gcc_run(home, GCC_START_DATE="2019-01-01")
        runs = list(ingestion_log(home, GCC_START_DATE="2019-01-01").values())
    finally:
        subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"],
                       env=gcc_env(home), capture_output=True, timeout=60)  # fmt: skip

    assert first.returncode == 0, first.stderr[-3000:]
    said = next(line for line in first.stderr.splitlines() if "first load" in line)
    assert "nothing in JobNimbus is older (GCC_START_DATE 2019-01-01)" in said
    partitions = int(said.split(" partitions")[0].rsplit("(", 1)[1])
    assert partitions == months_of_the_sandbox_company(home)  # about a year, not 95 months
    assert second.returncode == 0, second.stderr[-3000:]
    assert "catching up from" in second.stderr
    assert runs[0]["requests"] < len(STREAMS) * partitions + 40  # months that hold records
    assert runs[1]["requests"] == len(STREAMS)


def months_of_the_sandbox_company(home: Path) -> int:
    """Months from the built-in company's oldest record through the clock's current month, from
    the same company built here (its anchor is kept in GCC_HOME)."""
    from gcc_pipeline import clock
    from gcc_pipeline.sandbox import Company, CompanyConfig
    from gcc_pipeline.sandbox.builtin import FUTURE_DAYS, anchor
    from gcc_pipeline.streams import STREAMS

    company = Company(CompanyConfig(jobs=80, seed=1, history_days=365, anchor=anchor(home),
                                    future_days=FUTURE_DAYS))  # fmt: skip
    company.advance_to(clock.timestamp())
    oldest = min(r[s.window_field] for s in STREAMS for r in company.records(s.name))
    first, now = datetime.fromtimestamp(oldest, UTC), clock.now()
    return (now.year - first.year) * 12 + now.month - first.month + 1


def gcc_run(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "run", *args], env=gcc_env(home, **extra),
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT,
    )  # fmt: skip


def ingestion_log(home: Path, **extra: str) -> dict[str, dict[str, int]]:
    """Per run, in order: requests, records fetched by windows, and records fetched by id because
    other rows referenced them (from the warehouse's ingestion log)."""
    code = (
        "import json; from gcc_pipeline.settings import load_settings\n"
        "from gcc_pipeline.warehouse.server import connect, resolve_target\n"
        "c = connect(resolve_target(load_settings()).warehouse_url); cur = c.cursor()\n"
        "cur.execute('SELECT run_id, sum(requests), sum(fetched) FILTER (WHERE window_start IS "
        "NOT NULL), sum(fetched) FILTER (WHERE window_start IS NULL) FROM jobnimbus_ingestion_log "
        "GROUP BY run_id ORDER BY min(id)')\n"
        "print(json.dumps([[r, int(q), int(f), int(i or 0)] for r, q, f, i in cur.fetchall()]))"
    )
    shown = subprocess.run([sys.executable, "-c", code], env=gcc_env(home, **extra),
                           capture_output=True, text=True, cwd=PROJECT_ROOT,
                           check=True)  # fmt: skip
    return {r: {"requests": q, "fetched": f, "by_id": i} for r, q, f, i in json.loads(shown.stdout)}


def test_a_rejected_api_key_fails_at_once_in_one_line_without_the_key(tmp_path: Path) -> None:
    from gcc_pipeline.sandbox import start_sandbox

    server = start_sandbox(jobs=20, seed=2, api_key="the-right-key")
    try:
        result = gcc_run(
            tmp_path / "state", JOBNIMBUS_API_KEY=SECRET_KEY, JOBNIMBUS_BASE_URL=server.base_url
        )
    finally:
        server.stop()
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "rejected the API key" in errors[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""  # no stale figures either
    assert SECRET_KEY not in result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_webserver_started_by_hand_lists_the_assets_and_the_runs_of_gcc_run(
    first_run, gcc_home
) -> None:
    """`dagster-webserver` in the project folder, nothing exported but DAGSTER_HOME=$PWD (and
    GCC_HOME, which the user's clone would not need): dagster.yaml finds the same state."""
    port = free_port()
    env = gcc_env(gcc_home, DAGSTER_HOME=str(PROJECT_ROOT))
    web = str(Path(sys.executable).with_name("dagster-webserver"))
    server = subprocess.Popen([web, "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                              env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        text = (
            "{ assetNodes { assetKey { path } groupName } "
            "runsOrError { ... on Runs { results { jobName status } } } }"
        )
        query = json.dumps({"query": text}).encode()
        deadline = time.monotonic() + 120
        nodes = None
        while time.monotonic() < deadline and nodes is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=10) as response:
                    data = json.load(response)["data"]
                    nodes = data["assetNodes"]
            except OSError:
                time.sleep(1)  # ok: polling until the webserver listens
        assert nodes is not None, "webserver did not answer"
        keys = {n["assetKey"]["path"][-1]: n["groupName"] for n in nodes}
        assert keys["jobnimbus_raw_events"] == "raw" and keys["jobs"] == "normalized"
        assert keys["job_status_history"] == "history"
        assert keys["revenue_by_month"] == "analytics"
        runs = data["runsOrError"]["results"]
        assert {"jobName": "sync_job", "status": "SUCCESS"} in runs
    finally:
        server.terminate()
        server.wait(timeout=30)


def warehouse(home: Path) -> "psycopg2.extensions.connection":
    from gcc_pipeline.warehouse.server import loopback_url

    conn = psycopg2.connect(loopback_url(home))
    conn.autocommit = True
    return conn


def test_a_failed_gcc_run_is_recorded_and_prints_no_stale_figures(first_run, gcc_home) -> None:
    conn = warehouse(gcc_home)
    try:
        with conn.cursor() as cur:
            cur.execute("ALTER TABLE payments RENAME TO payments_away")
        failed = gcc_run(gcc_home, "--full")
        with conn.cursor() as cur:
            cur.execute("ALTER TABLE payments_away RENAME TO payments")
            cur.execute("SELECT job_name, message FROM gcc_run_failures")
            recorded = cur.fetchall()
    finally:
        conn.close()
    assert failed.returncode == 1
    assert "gcc run FAILED" in failed.stdout and "payments" in failed.stdout
    assert "rows per table" not in failed.stdout and "revenue" not in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
    assert [job for job, _ in recorded] == ["sync_job"]
    assert "payments" in recorded[0][1]


def test_an_unmapped_status_fails_gcc_run_naming_the_status_its_workflow_and_the_fix(
    tmp_path: Path,
) -> None:
    from gcc_pipeline.sandbox import start_sandbox
    from gcc_pipeline.sandbox.workflows import UNMAPPED_NAMES

    server = start_sandbox(jobs=60, seed=6, api_key="unmapped-key", history_days=90,
                           unmapped_status_share=0.2)  # fmt: skip
    try:
        unmapped = {
            (j["record_type_name"], j["status_name"])
            for j in server.company.records("jobs")
            if j["status_name"] in UNMAPPED_NAMES
        }
        home = tmp_path / "state"
        result = gcc_run(home, JOBNIMBUS_API_KEY="unmapped-key", GCC_START_DATE="2026-06-01",
                         JOBNIMBUS_BASE_URL=server.base_url)  # fmt: skip
    finally:
        server.stop()
        subprocess.run([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"],
                       env=gcc_env(home), capture_output=True, timeout=60)  # fmt: skip
    assert unmapped, "the sandbox put jobs into statuses the mapping lacks"
    assert result.returncode == 1, result.stderr[-3000:]
    out = result.stdout
    failure = out[out.index("FAILED [ERROR] jobs:stage_mapping_complete") :].splitlines()
    failure = failure[: next((i for i, line in enumerate(failure) if not line.strip()), None)]
    assert 2 <= len(failure) <= 6, "\n".join(failure)  # the check's line, then at most 5
    text = "\n".join(failure)
    for _, status in unmapped:
        assert status in text
    assert "stage_mappings.yaml" in text and "jobs" in text
    assert "Dagster" not in out.replace("Dagster run", "") and "Error" not in out
