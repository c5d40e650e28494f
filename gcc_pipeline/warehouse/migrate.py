"""Apply the numbered files of sql/ in order, once each, then the view files of sql/views/ as
repeatable definitions, recording what was applied.

Numbered migrations are immutable: a changed file is refused. View files (one materialized view
each, numbered so that dependencies come first) are definitions: when one is new or changed, its
view and every later view are dropped (CASCADE) and recreated from their files, so a dependent
view never outlives a definition it was built on; unchanged files before it are left alone.
"""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2.errors
from psycopg2 import sql

from gcc_pipeline.settings import SQL_DIR, ConfigError
from gcc_pipeline.warehouse.server import connect

_LEDGER = """
CREATE TABLE IF NOT EXISTS gcc_schema_migrations (
    filename   text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
VERIFIED_SECONDS = 60.0
_verified: dict[tuple[str, Path], float] = {}  # (url, sql dir) -> when found current
_LOCK_KEY = 7_042_025_001  # pg_advisory_xact_lock: two migrating processes take turns
VIEWS_DIR = "views"  # ledger rows of view files are named "views/<file>"


@dataclass(frozen=True)
class MigrationResult:
    applied: list[str]
    already: list[str]
    views_applied: tuple[str, ...] = ()  # view files (re)created by this call
    views_dropped: tuple[str, ...] = ()  # view files that disappeared, their views dropped


def migration_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """Files named NNN_*.sql, in numeric order; other sql/ files are load statements."""
    return sorted(p for p in sql_dir.glob("[0-9][0-9][0-9]_*.sql"))


def view_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """sql/views/NNN_<view name>.sql, in order: each defines the materialized view
    analytics.<view name>."""
    return sorted((sql_dir / VIEWS_DIR).glob("[0-9][0-9][0-9]_*.sql"))


def view_name(path: Path | str) -> str:
    """The view a view file defines: 010_revenue_daily.sql -> revenue_daily."""
    return Path(path).stem.split("_", 1)[1]


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected(sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """Ledger rows the code's schema consists of: every migration and view file, by checksum."""
    files = {p.name: checksum(p) for p in migration_files(sql_dir)}
    return files | {f"{VIEWS_DIR}/{p.name}": checksum(p) for p in view_files(sql_dir)}


def pending(url: str, sql_dir: Path = SQL_DIR) -> list[str]:
    """Files the database has not applied (or applied in another version, or since removed):
    one statement on a pooled connection (every run's resources ask)."""
    from gcc_pipeline.warehouse.pool import borrowed

    done: dict[str, str] = {}
    with borrowed(url) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT filename, checksum FROM gcc_schema_migrations")
                done = dict(cur.fetchall())
            except psycopg2.errors.UndefinedTable:
                pass  # a database never migrated
    wanted = expected(sql_dir)
    gone = [n for n in done if n.startswith(f"{VIEWS_DIR}/") and n not in wanted]
    return [n for n, sum_ in wanted.items() if done.get(n) != sum_] + gone


def verify_current(url: str, sql_dir: Path = SQL_DIR) -> None:
    """Fail in one line, naming the command, when the schema is not the code's. A schema found
    current (or just migrated) in this process is taken as current for VERIFIED_SECONDS: `gcc
    run` migrates, then its run's resources ask again."""
    found = _verified.get((url, sql_dir))
    if found is not None and time.monotonic() - found < VERIFIED_SECONDS:
        return
    missing = pending(url, sql_dir)
    if missing:
        raise ConfigError(
            f"the warehouse schema is not current ({len(missing)} file(s) not applied, "
            f"first {missing[0]}): run `gcc db migrate` (gcc run and gcc dev apply it too)"
        )
    _verified[(url, sql_dir)] = time.monotonic()


def _with_ledger(path: Path, ledger: bytes) -> bytes:
    """A file and its ledger row as one statement string: one round trip per file (the text is
    sent without parameters, so a % in it stays as written)."""
    return path.read_bytes() + b"\n;\n" + ledger  # a last line may be a comment


Statement = tuple[str, bytes]  # (what it applies: a file's ledger name, or "views"), its text


def _views(
    cur, sql_dir: Path, done: dict[str, str]
) -> tuple[list[Statement], list[str], list[str]]:
    """What recreates the view files from the first new, changed or removed one onwards."""
    files = {f"{VIEWS_DIR}/{p.name}": p for p in view_files(sql_dir)}
    recorded = {name: sum_ for name, sum_ in done.items() if name.startswith(f"{VIEWS_DIR}/")}
    names = sorted(set(files) | set(recorded))
    stale = [n for n in names if n not in files or recorded.get(n) != checksum(files[n])]
    if not stale:
        return [], [], []
    start = names.index(stale[0])
    redo = names[start:]
    # Dependants first (CASCADE would take them anyway).
    drops = sql.SQL("; ").join(
        sql.SQL("DROP MATERIALIZED VIEW IF EXISTS analytics.{} CASCADE").format(
            sql.Identifier(view_name(n))
        )
        for n in reversed(redo)
    )
    statements: list[Statement] = [(VIEWS_DIR, drops.as_string(cur).encode())]
    applied, dropped = [], []
    for name in redo:
        if name not in files:
            forget = cur.mogrify("DELETE FROM gcc_schema_migrations WHERE filename = %s", (name,))
            statements.append((name, forget))
            dropped.append(name)
            continue
        ledger = cur.mogrify(
            "INSERT INTO gcc_schema_migrations (filename, checksum) VALUES (%s, %s) "
            "ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()",
            (name, checksum(files[name])),
        )
        statements.append((name, _with_ledger(files[name], ledger)))
        applied.append(name)
    return statements, applied, dropped


def migrate(url: str, sql_dir: Path = SQL_DIR) -> MigrationResult:
    """Bring the database to the current schema and view definitions; a second call applies
    nothing (and costs one statement: the ledger read of `pending`).

    Every pending file goes to the server in one statement string, in the one transaction the
    files always shared: a round trip for a new database's whole schema instead of one per
    file. When it fails, nothing is left applied, and the files are applied again one at a
    time so that the error names the file that fails."""
    if not pending(url, sql_dir):
        _verified[(url, sql_dir)] = time.monotonic()
        return MigrationResult(applied=[], already=sorted(expected(sql_dir)))
    try:
        result = _migrate(url, sql_dir, together=True)
    except psycopg2.Error:
        result = _migrate(url, sql_dir, together=False)
    _verified[(url, sql_dir)] = time.monotonic()
    return result


def _migrate(url: str, sql_dir: Path, *, together: bool) -> MigrationResult:
    conn = connect(url)
    applied: list[str] = []
    already: list[str] = []
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            cur.execute(_LEDGER)
            cur.execute("SELECT filename, checksum FROM gcc_schema_migrations")
            done = dict(cur.fetchall())
            statements: list[Statement] = []
            for path in migration_files(sql_dir):
                sum_ = checksum(path)
                if path.name in done:
                    if done[path.name] != sum_:
                        raise ConfigError(
                            f"{path.name} changed after it was applied; "
                            "schema changes go in a new numbered file"
                        )
                    already.append(path.name)
                    continue
                ledger = cur.mogrify(
                    "INSERT INTO gcc_schema_migrations (filename, checksum) VALUES (%s, %s)",
                    (path.name, sum_),
                )
                statements.append((path.name, _with_ledger(path, ledger)))
                applied.append(path.name)
            views, views_applied, views_dropped = _views(cur, sql_dir, done)
            statements += views
            if together:
                if statements:
                    cur.execute(b"\n;\n".join(text for _, text in statements))
            else:
                for name, text in statements:
                    try:
                        cur.execute(text)
                    except psycopg2.Error as error:
                        error.add_note(f"while applying sql/{name}")
                        raise
    finally:
        conn.close()
    return MigrationResult(applied, already, tuple(views_applied), tuple(views_dropped))
