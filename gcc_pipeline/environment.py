"""Prepare the process (and Dagster's) environment: database, schema, DAGSTER_HOME."""

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from gcc_pipeline.settings import PROJECT_ROOT, Settings, load_settings
from gcc_pipeline.warehouse.migrate import MigrationResult, migrate
from gcc_pipeline.warehouse.server import PostgresTarget, connect, ensure_database, resolve_target
from gcc_pipeline.warehouse.urls import database_of, for_sqlalchemy, with_database

DAGSTER_STORAGE_ENV = "GCC_DAGSTER_STORAGE_URL"
WAREHOUSE_ENV = "GCC_WAREHOUSE_URL"


@dataclass(frozen=True)
class Environment:
    settings: Settings
    target: PostgresTarget
    migration: MigrationResult
    dagster_home: Path


def dagster_home_for(settings: Settings) -> Path:
    return settings.home / "dagster"


def _relax_dagster_commits(url: str) -> None:
    """Dagster writes one event per partition of a range run; without waiting for the disk on each
    of them a 400-day backfill records in a fraction of the time. A crash loses at most the last
    few events of Dagster's own bookkeeping, never warehouse data (a separate database)."""
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


def prepare(announce: Callable[[str], None] = print) -> Environment:
    """Resolve PostgreSQL, apply the schema and point Dagster at its storage; say what is used."""
    settings = load_settings()
    target = resolve_target(settings)
    announce(f"warehouse: {target.describe()}")
    ensure_database(target.warehouse_url)
    ensure_database(target.dagster_url)
    if target.embedded:
        _relax_dagster_commits(target.dagster_url)
    result = migrate(target.warehouse_url)
    home = dagster_home_for(settings)
    home.mkdir(parents=True, exist_ok=True)
    # With DAGSTER_HOME set, Dagster reads $DAGSTER_HOME/dagster.yaml: the project's copy goes in.
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[DAGSTER_STORAGE_ENV] = for_sqlalchemy(target.dagster_url)
    os.environ[WAREHOUSE_ENV] = target.warehouse_url
    return Environment(settings, target, result, home)
