"""`gcc db`: which PostgreSQL is used, said plainly, and failures in one line without secrets."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.warehouse.urls import database_of, with_database
from gcc_pipeline_tests.conftest import create_database, drop_database

SECRET = "s3cr3t-Pa55word"


def gcc(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_URL", "GCC_HOME")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def gcc_home(tmp_path: Path) -> Iterator[Path]:
    """A state folder whose embedded server is stopped afterwards."""
    home = tmp_path / "state"
    yield home
    gcc("db", "stop", env={"GCC_HOME": str(home)})


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def test_without_postgres_url_an_embedded_server_starts_and_is_announced(gcc_home: Path) -> None:
    result = gcc("db", "migrate", env={"GCC_HOME": str(gcc_home)})

    assert result.returncode == 0, result.stderr
    assert "embedded PostgreSQL" in result.stderr
    assert (gcc_home / "pgdata" / "PG_VERSION").exists()
    url = gcc("db", "url", env={"GCC_HOME": str(gcc_home)}).stdout.strip()
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM gcc_schema_migrations")
        assert cur.fetchone()[0] >= 3


def test_a_second_process_reuses_the_running_embedded_server(gcc_home: Path) -> None:
    env = {"GCC_HOME": str(gcc_home)}
    assert gcc("db", "migrate", env=env).returncode == 0
    first_pid = postmaster_pid(gcc_home)

    second = gcc("db", "migrate", env=env)

    assert second.returncode == 0
    assert "applied 0 file(s)" in second.stdout
    assert postmaster_pid(gcc_home) == first_pid


def test_the_embedded_server_survives_a_stale_lock_from_a_killed_process(gcc_home: Path) -> None:
    env = {"GCC_HOME": str(gcc_home)}
    assert gcc("db", "migrate", env=env).returncode == 0
    old_pid = postmaster_pid(gcc_home)
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(old_pid, 0)
            time.sleep(0.05)  # ok: waiting for the kernel to reap the killed server
        except ProcessLookupError:
            break
    assert (gcc_home / "pgdata" / "postmaster.pid").exists()  # the stale lock is left behind

    again = gcc("db", "migrate", env=env)

    assert again.returncode == 0, again.stderr
    assert postmaster_pid(gcc_home) != old_pid


def test_postgres_url_is_honoured(pg_server_url: str, tmp_path: Path) -> None:
    url = create_database(pg_server_url)
    try:
        result = gcc("db", "migrate", env={"POSTGRES_URL": url, "GCC_HOME": str(tmp_path)})

        assert result.returncode == 0, result.stderr
        assert "POSTGRES_URL" in result.stderr
        assert not (tmp_path / "pgdata").exists()  # no embedded server was started
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.jobs') IS NOT NULL")
            assert cur.fetchone()[0]
    finally:
        drop_database(pg_server_url, url)
        drop_database(pg_server_url, with_database(url, database_of(url) + "_dagster"))


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://analyst:{SECRET}@127.0.0.1:1/warehouse",
        f"postgresql://analyst:{SECRET}@no-such-host.invalid:5432/warehouse?sslmode=require",
        f"postgresql://analyst:{SECRET}@127.0.0.1:notaport/warehouse",
    ],
)
def test_an_unreachable_or_malformed_url_fails_in_one_line_without_the_password(
    url: str, tmp_path: Path
) -> None:
    result = gcc("db", "migrate", env={"POSTGRES_URL": url, "GCC_HOME": str(tmp_path)})

    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_db_url_hides_the_password_unless_asked(tmp_path: Path) -> None:
    env = {
        "POSTGRES_URL": f"postgresql://analyst:{SECRET}@db.example:5432/w",
        "GCC_HOME": str(tmp_path),
    }

    shown = gcc("db", "url", env=env)

    assert shown.returncode == 0
    assert SECRET not in shown.stdout + shown.stderr
    assert "db.example:5432/w" in shown.stdout


def test_a_state_folder_that_is_not_writable_fails_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    result = gcc("db", "migrate", env={"GCC_HOME": str(blocker / "state")})

    assert result.returncode == 2
    assert "not writable" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_verb_has_help() -> None:
    for verb in (["db"], ["db", "url"], ["db", "migrate"], ["db", "stop"]):
        result = gcc(*verb, "--help")
        assert result.returncode == 0
        assert "usage: gcc" in result.stdout


def test_db_url_gives_the_embedded_server_a_tcp_address_for_sql_tools(gcc_home: Path) -> None:
    env = {"GCC_HOME": str(gcc_home)}
    assert gcc("db", "migrate", env=env).returncode == 0
    tcp = gcc("db", "url", env=env)
    socket_url = gcc("db", "url", "--socket", env=env).stdout.strip()

    assert tcp.stdout.startswith("postgresql://postgres@127.0.0.1:")
    assert "desktop SQL tools" in tcp.stderr and "--socket" in tcp.stderr
    assert "host=" in socket_url and "127.0.0.1" not in socket_url
    for url in (tcp.stdout.strip(), socket_url):
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone() == ("gcc",)
