"""Prepare the process (and Dagster's) environment: database, schema, DAGSTER_HOME."""

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gcc_pipeline.settings import PROJECT_ROOT, Settings, load_settings
from gcc_pipeline.warehouse.migrate import MigrationResult, migrate
from gcc_pipeline.warehouse.server import PostgresTarget, ensure_database, resolve_target
from gcc_pipeline.warehouse.urls import for_sqlalchemy

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


def prepare(announce: Callable[[str], None] = print) -> Environment:
    """Resolve PostgreSQL, apply the schema and point Dagster at its storage; say what is used."""
    settings = load_settings()
    target = resolve_target(settings)
    announce(f"warehouse: {target.describe()}")
    ensure_database(target.warehouse_url)
    ensure_database(target.dagster_url)
    result = migrate(target.warehouse_url)
    home = dagster_home_for(settings)
    home.mkdir(parents=True, exist_ok=True)
    # With DAGSTER_HOME set, Dagster reads $DAGSTER_HOME/dagster.yaml: the project's copy goes in.
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[DAGSTER_STORAGE_ENV] = for_sqlalchemy(target.dagster_url)
    os.environ[WAREHOUSE_ENV] = target.warehouse_url
    return Environment(settings, target, result, home)
