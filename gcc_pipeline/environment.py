"""Prepare what a `gcc` command needs before any Dagster code runs: the PostgreSQL server and its
two databases, the schema, the account's time zone, and the variables handed to child processes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from psycopg2 import sql

from gcc_pipeline.settings import (
    DAGSTER_STORAGE_URL_ENV,
    WAREHOUSE_URL_ENV,
    ConfigError,
    Settings,
    export,
    load_settings,
    remember_account_timezone,
)
from gcc_pipeline.warehouse.migrate import MigrationResult, migrate
from gcc_pipeline.warehouse.server import PostgresTarget, connect, ensure_database, resolve_target
from gcc_pipeline.warehouse.urls import database_of, for_sqlalchemy, with_database


@dataclass(frozen=True)
class Environment:
    settings: Settings
    target: PostgresTarget
    migration: MigrationResult


def _relax_dagster_commits(url: str) -> None:
    """Dagster writes one event at a time; without waiting for the disk on each the run records
    in a fraction of the time. A crash loses at most the last few events of Dagster's own
    bookkeeping, never warehouse data (a separate database). Embedded server only."""
    conn = connect(with_database(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                    sql.Identifier(database_of(url))
                )
            )
    finally:
        conn.close()


@cache
def _target(settings: Settings) -> PostgresTarget:
    return resolve_target(settings)


def dagster_database(settings: Settings) -> str:
    """Dagster's storage database, created (and tuned, when embedded) on first use."""
    target = _target(settings)
    ensure_database(target.dagster_url)
    if target.embedded:
        _relax_dagster_commits(target.dagster_url)
    return target.dagster_url


def prepare(announce: Callable[[str], None] = print) -> Environment:
    """Resolve PostgreSQL, apply the schema and hand both URLs to child processes."""
    settings = load_settings()
    target = _target(settings)
    announce(f"warehouse: {target.describe()}")
    ensure_database(target.warehouse_url)
    dagster_url = dagster_database(settings)
    result = migrate(target.warehouse_url)
    export(
        {
            WAREHOUSE_URL_ENV: target.warehouse_url,
            DAGSTER_STORAGE_URL_ENV: for_sqlalchemy(dagster_url),
        }
    )
    return Environment(load_settings(), target, result)


def resolve_account_timezone(settings: Settings, account_settings: dict) -> Settings:
    """A real account without GCC_TIMEZONE reports in the time zone the account states; without
    one, refuse to start rather than bucket months in UTC."""
    if settings.uses_sandbox or settings.timezone_source == "GCC_TIMEZONE":
        return settings
    zone = account_settings.get("time_zone") or account_settings.get("timezone")
    if not isinstance(zone, str) or not zone.strip():
        raise ConfigError(
            "GCC_TIMEZONE is not set and the JobNimbus account does not state its time zone: "
            "export GCC_TIMEZONE (an IANA name such as America/Chicago)"
        )
    remember_account_timezone(settings.home, zone.strip())
    return load_settings()
