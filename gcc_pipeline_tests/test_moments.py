"""Time is an input: `gcc run` on the defaults holds at the awkward moments of the account's time
zone (New Year, both DST switches, a leap day, the last minute of a month) and at the real now.

At each moment the built-in sandbox company is first served, caught up an hour later (across the
boundary) and again a day later; every check passes each time, and the caught-up warehouse equals
a fresh load of the same company at the last moment. The clock is injected (GCC_NOW, read by
gcc_pipeline.clock in every process); PostgreSQL stays on the real clock, outside it.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.warehouse_state import table_checksums

ZONE = ZoneInfo("America/Chicago")
MOMENTS = {
    "New Year's Eve": datetime(2025, 12, 31, 23, 30, tzinfo=ZONE),
    "spring forward (02:00 does not exist)": datetime(2026, 3, 8, 1, 30, tzinfo=ZONE),
    "fall back (01:30 happens twice)": datetime(2026, 11, 1, 1, 30, tzinfo=ZONE),
    "leap day": datetime(2024, 2, 29, 23, 30, tzinfo=ZONE),
    "last minute of a month": datetime(2026, 11, 30, 23, 59, tzinfo=ZONE),
    "today": None,  # the real clock
}


def _env(home: Path, url: str, moment: datetime | None, start: date) -> dict[str, str]:
    ours = ("GCC_", "JOBNIMBUS_", "DAGSTER_", "POSTGRES_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env |= {"GCC_HOME": str(home), "POSTGRES_URL": url, "GCC_SANDBOX_JOBS": "60",
            "GCC_TIMEZONE": "America/Chicago", "GCC_START_DATE": start.isoformat()}  # fmt: skip
    if moment is not None:
        env["GCC_NOW"] = moment.isoformat()
    return env


def gcc_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "run", *args], env=env, capture_output=True,
        text=True, timeout=600, cwd=PROJECT_ROOT,
    )  # fmt: skip
    said = f"GCC_NOW={env.get('GCC_NOW')}\n{result.stderr[-4000:]}\n{result.stdout[-3000:]}"
    assert result.returncode == 0, said
    assert "checks:" in result.stdout and " 0 failed" in result.stdout, said
    return result


@pytest.fixture
def databases(pg_server_url: str) -> Iterator[list[str]]:
    urls = [create_database(pg_server_url, "gcc_m") for _ in range(2)]
    yield urls
    for url in urls:
        drop_database(pg_server_url, url)
        drop_database(pg_server_url, url + "_dagster")


@pytest.mark.parametrize("moment", MOMENTS.values(), ids=MOMENTS.keys())
def test_gcc_run_catches_up_across_the_moment_and_equals_a_fresh_load(
    moment: datetime | None, databases: list[str], tmp_path: Path
) -> None:
    at = moment or datetime.now(ZONE)
    start = (at.date() - timedelta(days=75)).replace(day=1)
    home, fresh_home = tmp_path / "state", tmp_path / "fresh"
    first = gcc_run(_env(home, databases[0], moment, start))
    assert "first load" in first.stderr
    later = [at + timedelta(hours=1), at + timedelta(hours=25)]
    for step in later:
        caught_up = gcc_run(_env(home, databases[0], step if moment else None, start))
        assert "catching up from" in caught_up.stderr

    fresh_home.mkdir()
    shutil.copy(home / "sandbox.json", fresh_home / "sandbox.json")  # the same company
    gcc_run(_env(fresh_home, databases[1], later[-1] if moment else None, start))

    caught, fresh = (_checksums(url) for url in databases)
    assert caught == fresh


def _checksums(url: str) -> dict:
    conn = psycopg2.connect(url)
    try:
        return table_checksums(conn)
    finally:
        conn.close()
