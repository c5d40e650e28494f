"""What an operator meets: mistakes and outages are one line and a non-zero exit, in seconds,
without a traceback; the wrapper tells how to run the tests."""

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from gcc_pipeline import clock
from gcc_pipeline.settings import PROJECT_ROOT
from gcc_pipeline_tests.conftest import clean_environment


def gcc(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    clean = clean_environment()
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", *args],
        env={**clean, "GCC_HOME": str(home), **env},
        capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("gcc: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


TOMORROW = (clock.now().date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("GCC_START_DATE", TOMORROW, "in the future"),
        ("GCC_START_DATE", "2024-13-01", "not a YYYY-MM-DD date"),
        ("GCC_SANDBOX_JOBS", "abc", "GCC_SANDBOX_JOBS='abc' is not a whole number"),
        ("GCC_INCREMENTAL_CRON", "bogus", "is not a cron expression"),
        ("GCC_TIMEZONE", "Mars/Olympus", "not an IANA time zone"),
        ("JOBNIMBUS_MAX_CONCURRENCY", "0", "must be at least 1"),
        ("GCC_FRESHNESS_HOURS", "soon", "is not a number"),
    ],
)
def test_a_bad_setting_is_one_line_before_anything_starts(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    result = gcc("run", home=tmp_path / "state", **{variable: value})

    assert said in one_error_line(result)
    assert not (tmp_path / "state" / "pgdata").exists()  # nothing was started


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_api_is_one_line_before_any_server_starts(tmp_path: Path) -> None:
    result = gcc(
        "run", home=tmp_path / "state", JOBNIMBUS_API_KEY="some-key-123456",
        JOBNIMBUS_BASE_URL=f"http://127.0.0.1:{closed_port()}/api1", GCC_TIMEZONE="UTC",
    )  # fmt: skip
    line = one_error_line(result)
    assert "JobNimbus is not usable" in line and "/account/settings" in line
    assert "some-key-123456" not in result.stderr
    assert not (tmp_path / "state" / "pgdata").exists()  # the preflight came first


def test_the_wrapper_says_how_to_run_the_tests() -> None:
    shown = subprocess.run([str(PROJECT_ROOT / "gccw"), "--help"], capture_output=True,
                           text=True, timeout=120, cwd=PROJECT_ROOT)  # fmt: skip
    assert shown.returncode == 0
    assert "./gccw test" in shown.stdout and "usage: gcc" in shown.stdout


def test_a_real_account_reports_in_its_own_time_zone_or_refuses_to_guess(tmp_path: Path) -> None:
    """Issue 12, defect 16: without GCC_TIMEZONE, months follow the account's time zone (read
    from account/settings); an account that does not state one stops `gcc run` in one line."""
    from gcc_pipeline.sandbox import start_sandbox

    today = clock.now().date()
    server = start_sandbox(jobs=20, seed=4, api_key="tz-key-0001", anchor=today, history_days=20)
    env = {"JOBNIMBUS_API_KEY": "tz-key-0001", "JOBNIMBUS_BASE_URL": server.base_url,
           "GCC_START_DATE": (today - timedelta(days=25)).isoformat()}  # fmt: skip
    try:
        stated = gcc("run", home=tmp_path / "a", **env)
        silent = server.company.settings()
        silent.pop("time_zone")
        server.company.settings = lambda: silent  # an account that does not say
        unstated = gcc("run", home=tmp_path / "b", **env)
    finally:
        server.stop()
        for home in ("a", "b"):
            gcc("db", "stop", home=tmp_path / home)
    assert stated.returncode == 0, stated.stderr[-2000:]
    assert "time zone: America/Denver (the account's" in stated.stderr
    assert "does not state its time zone" in one_error_line(unstated)
