"""Apply the numbered files of sql/ in order, once each, recording what was applied."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from gcc_pipeline.settings import SQL_DIR, ConfigError
from gcc_pipeline.warehouse.server import connect

_LEDGER = """
CREATE TABLE IF NOT EXISTS gcc_schema_migrations (
    filename   text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_LOCK_KEY = 7_042_025_001  # pg_advisory_xact_lock: two migrating processes take turns


@dataclass(frozen=True)
class MigrationResult:
    applied: list[str]
    already: list[str]


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """Files named NNN_*.sql, in numeric order; other sql/ files are load statements."""
    return sorted(p for p in sql_dir.glob("[0-9][0-9][0-9]_*.sql"))


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pending(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Migration files the database has not applied (or applied in another version)."""
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('gcc_schema_migrations') IS NOT NULL")
            done: dict[str, str] = {}
            if cur.fetchone()[0]:
                cur.execute("SELECT filename, checksum FROM gcc_schema_migrations")
                done = dict(cur.fetchall())
    finally:
        conn.close()
    return [p.name for p in migration_files(sql_dir) if done.get(p.name) != _checksum(p)]


def verify_current(url: str, sql_dir: Path = SQL_DIR) -> None:
    """Fail in one line, naming the command, when the schema is not the code's."""
    missing = pending(url, sql_dir)
    if missing:
        raise ConfigError(
            f"the warehouse schema is not current ({len(missing)} migration(s) not applied, "
            f"first {missing[0]}): run `gcc db migrate` (gcc run and gcc dev apply it too)"
        )


def migrate(url: str, sql_dir: Path = SQL_DIR) -> MigrationResult:
    """Bring the database to the current schema; a second call applies nothing."""
    conn = connect(url)
    applied: list[str] = []
    already: list[str] = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute(_LEDGER)
            cur.execute("SELECT filename, checksum FROM gcc_schema_migrations")
            done = dict(cur.fetchall())
            for path in migration_files(sql_dir):
                checksum = _checksum(path)
                if path.name in done:
                    if done[path.name] != checksum:
                        raise ConfigError(
                            f"{path.name} changed after it was applied; "
                            "schema changes go in a new numbered file"
                        )
                    already.append(path.name)
                    continue
                cur.execute(path.read_text())
                cur.execute(
                    "INSERT INTO gcc_schema_migrations (filename, checksum) VALUES (%s, %s)",
                    (path.name, checksum),
                )
                applied.append(path.name)
    finally:
        conn.close()
    return MigrationResult(applied, already)
