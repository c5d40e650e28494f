"""A run that dies (SIGKILL, out of memory, a reboot) never blocks the ones after it.

`gcc run` killed mid-load: the next `gcc run` marks the dead run failed, completes, and the
warehouse equals a fresh load's.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline.warehouse.server import loopback_url
from gcc_pipeline_tests.conftest import clean_environment
from gcc_pipeline_tests.warehouse_state import table_checksums

JOBS = "300"


def env_for(home: Path) -> dict[str, str]:
    clean = clean_environment()
    return {
        **clean,
        "GCC_HOME": str(home),
        "GCC_SANDBOX_JOBS": JOBS,
        "GCC_START_DATE": "2026-01-01",
    }


def gcc(home: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "gcc_pipeline.cli", *args]
    return subprocess.run(command, env=env_for(home), capture_output=True, text=True,
                          timeout=600, cwd=PROJECT_ROOT)  # fmt: skip


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    pair = (tmp_path / "killed", tmp_path / "fresh")
    yield pair
    for home in pair:
        gcc(home, "db", "stop")


def counts(home: Path) -> tuple[int, int]:
    """(raw payloads landed, streams whose load finished) so far, 0s before the schema exists."""
    url = loopback_url(home)
    if url is None:
        return 0, 0
    try:
        with psycopg2.connect(url, connect_timeout=2) as conn, conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM jobnimbus_raw_events), "
                        "(SELECT count(*) FROM jobnimbus_sync_state)")  # fmt: skip
            return cur.fetchone()
    except psycopg2.Error:
        return 0, 0


def test_a_gcc_run_killed_mid_load_is_failed_by_the_next_which_completes_the_load(
    homes: tuple[Path, Path], tmp_path: Path
) -> None:
    killed, fresh = homes
    log = (tmp_path / "killed.log").open("w")
    run = subprocess.Popen([sys.executable, "-m", "gcc_pipeline.cli", "run"], env=env_for(killed),
                           stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            assert run.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the load never started"
            landed, finished = counts(killed)
            if landed and finished < 6:
                break
            time.sleep(0.02)  # ok: polling with a deadline
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert counts(killed)[1] < 6, "killed before every stream finished"

    after = gcc(killed, "run")
    fresh.mkdir(parents=True)
    shutil.copy(killed / "sandbox.json", fresh / "sandbox.json")  # the same company
    reference = gcc(fresh, "run")

    assert after.returncode == 0, after.stderr[-3000:]
    assert "had died without finishing; marked it failed" in after.stderr
    assert reference.returncode == 0, reference.stderr[-3000:]
    with psycopg2.connect(loopback_url(killed)) as a, psycopg2.connect(loopback_url(fresh)) as b:
        assert table_checksums(a) == table_checksums(b)
