"""Security: the API key and database passwords appear nowhere (logs, Dagster's event log, run
config and tags, instance files, the warehouse, exceptions, `gcc` output), even when runs fail; the
read-only role of `gcc db grant-reader` reads normalized columns and analytics views and nothing
else; and SQL is parameterized or composed, except reviewed places."""

import ast
import base64
import hashlib
import hmac
import logging
import os
import re
import socket
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline import clock
from gcc_pipeline.assets.analytics import VIEWS
from gcc_pipeline.assets.reconciliation import reconciliation
from gcc_pipeline.partitions import latest_key, month_key
from gcc_pipeline.resources import build_resources
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.settings import PROJECT_ROOT, ConfigError
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline.warehouse.roles import (
    PRIVATE_TABLES,
    READABLE_TABLES,
    WITHHELD_COLUMNS,
    ReaderConfig,
    grant_reader,
)
from gcc_pipeline.warehouse.urls import database_of, with_database
from gcc_pipeline_tests.conftest import drop_database
from gcc_pipeline_tests.pipeline import ANCHOR

KEY = "JN-KEY-7f3a9c-SENTINEL"
DB_PASSWORD = "PG-PW-b41d07-SENTINEL"
READER_PASSWORD = "RD-PW-5e2c88-SENTINEL"
SECRETS = (KEY, DB_PASSWORD, READER_PASSWORD)


# ---------------------------------------------------------------- where secrets could end up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leaks(texts: dict[str, str | bytes]) -> list[str]:
    """Labels of the texts that hold any secret (also base64- or URL-encoded)."""
    found = []
    for secret in SECRETS:
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        for label, text in texts.items():
            blob = text if isinstance(text, str) else text.decode("utf-8", "replace")
            if any(form in blob for form in forms):
                found.append(f"{secret[:8]}... in {label}")
    return found


def run_record(instance: dg.DagsterInstance, run_id: str) -> dict[str, str | bytes]:
    """Everything Dagster keeps about a run: each event (messages, metadata, errors), the run
    with its config and tags, and every file of the instance (event DBs, compute logs)."""
    texts: dict[str, str | bytes] = {
        f"event {i} ({e.dagster_event_type or 'log'})": dg.serialize_value(e)
        for i, e in enumerate(instance.all_logs(run_id))
    }
    run = instance.get_run_by_id(run_id)
    assert run is not None
    texts["run"] = dg.serialize_value(run)
    texts["run config"] = repr(run.run_config)
    texts["run tags"] = repr(run.tags)
    root = Path(instance.root_directory)
    for path in root.rglob("*"):
        if path.is_file():
            texts[f"file {path.relative_to(root)}"] = path.read_bytes()
    assert len(texts) > 5
    return texts


def warehouse_text(url: str) -> dict[str, str]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            tables = [t for (t,) in cur.fetchall()]
            out = {}
            for table in tables:  # names from the catalog, quoted
                cur.execute(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t")
                out[f"table {table}"] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def exception_text(exc: BaseException) -> str:
    """The whole chain, as a traceback would print it, plus each link's repr."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:  # chains can loop
        seen.add(id(link))
        parts.append(repr(link))
        link = link.__cause__ or link.__context__
    return "\n".join(parts)


def pipeline_assets() -> list[Any]:
    from gcc_pipeline.definitions import defs

    return [
        a
        for a in defs.assets
        if not any(g == "analytics" for g in (getattr(a, "group_names_by_key", {}) or {}).values())
        and "reconciliation" not in {k.to_user_string() for k in a.keys}
    ]


def run_pipeline(
    server: Any, warehouse: WarehouseResource, instance: dg.DagsterInstance, monkeypatch, **kw: Any
) -> dg.ExecuteInProcessResult:
    """The assets `gcc run` materializes, with the resources it builds (the key an EnvVar), over
    the months from the sandbox's first records to now."""
    monkeypatch.setenv("JOBNIMBUS_API_KEY", KEY)
    monkeypatch.setenv("JOBNIMBUS_BASE_URL", server.base_url)
    res = {**build_resources(), "warehouse": warehouse}
    start = datetime.fromtimestamp(server.company.now, tz=UTC) - timedelta(days=9)
    return dg.materialize(
        pipeline_assets(),
        resources=res,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": month_key(start),
            "dagster/asset_partition_range_end": latest_key(),
        },
        **kw,
    )


def local_instance(tmp_path: Path) -> dg.DagsterInstance:
    """A file-backed instance (SQLite event log, compute logs) whose files the scan reads."""
    (tmp_path / "dagster").mkdir()
    return dg.DagsterInstance.local_temp(str(tmp_path / "dagster"))


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # urllib3, requests, dagster: everything
    return caplog


def test_a_successful_run_with_the_key_leaves_it_nowhere(
    warehouse_url: str, tmp_path: Path, monkeypatch, logs, capfd
) -> None:
    instance = local_instance(tmp_path)
    server = start_sandbox(jobs=20, seed=3, api_key=KEY, anchor=ANCHOR, history_days=8)
    try:
        result = run_pipeline(server, WarehouseResource(url=warehouse_url), instance, monkeypatch)
        recon = dg.materialize(
            [reconciliation],
            resources={**build_resources(), "warehouse": WarehouseResource(url=warehouse_url)},
            instance=instance,
        )
    finally:
        server.stop()
    assert result.success and recon.success
    out, err = capfd.readouterr()
    texts = {"caplog": logs.text, "stdout": out, "stderr": err}
    texts |= run_record(instance, result.run_id) | run_record(instance, recon.run_id)
    texts |= warehouse_text(warehouse_url)
    assert "jobs" in texts["table jobnimbus_ingestion_log"]  # the scan sees real content
    assert leaks(texts) == []


def test_a_rejected_key_fails_the_run_and_leaves_it_nowhere(
    warehouse_url: str, tmp_path: Path, monkeypatch, logs, capfd
) -> None:
    instance = local_instance(tmp_path)
    server = start_sandbox(jobs=10, seed=3, api_key="the-right-key", anchor=ANCHOR, history_days=5)
    try:
        with pytest.raises(Exception) as raised:
            run_pipeline(server, WarehouseResource(url=warehouse_url), instance, monkeypatch)
    finally:
        server.stop()
    (run,) = instance.get_runs()
    texts = run_record(instance, run.run_id)
    failures = [t for label, t in texts.items() if "STEP_FAILURE" in label]
    assert failures and all("rejected the API key" in str(t) for t in failures)
    out, err = capfd.readouterr()
    texts |= {"exception": exception_text(raised.value), "caplog": logs.text, "stdout": out,
              "stderr": err} | warehouse_text(warehouse_url)  # fmt: skip
    assert leaks(texts) == []


def test_an_unreachable_database_fails_the_run_without_its_password(
    tmp_path: Path, monkeypatch, logs, capfd
) -> None:
    instance = local_instance(tmp_path)
    url = f"postgresql://etl:{DB_PASSWORD}@127.0.0.1:{free_port()}/warehouse"
    server = start_sandbox(jobs=10, seed=3, api_key=KEY, anchor=ANCHOR, history_days=5)
    try:
        with pytest.raises(Exception) as raised:
            run_pipeline(server, WarehouseResource(url=url), instance, monkeypatch)
    finally:
        server.stop()
    (run,) = instance.get_runs()
    out, err = capfd.readouterr()
    texts = run_record(instance, run.run_id) | {
        "exception": exception_text(raised.value), "caplog": logs.text, "stdout": out,
        "stderr": err,
    }  # fmt: skip
    assert any("cannot reach PostgreSQL at 127.0.0.1" in str(t) for t in texts.values())
    assert leaks(texts) == []


# ---------------------------------------------------------------- the gcc command


def gcc(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    inherited = ("POSTGRES_URL", "JOBNIMBUS_API_KEY", "JOBNIMBUS_BASE_URL", "DAGSTER_HOME",
                 "GCC_READER_ROLE", "GCC_READER_PASSWORD", "DAGSTER_POSTGRES_URL")  # fmt: skip
    full = {k: v for k, v in os.environ.items() if k not in inherited} | env
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", *args],
        env=full, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT,
    )  # fmt: skip


@pytest.fixture
def scratch_url(pg_server_url: str) -> Iterator[str]:
    """A database name on the test server for `gcc` to create (with its _dagster twin)."""
    url = with_database(pg_server_url, f"gcc_sec_{uuid.uuid4().hex[:10]}")
    yield url
    drop_database(pg_server_url, url)
    drop_database(pg_server_url, dagster_twin(url))


def dagster_twin(url: str) -> str:
    return with_database(url, database_of(url) + "_dagster")


def test_gcc_run_on_a_real_key_leaves_it_out_of_output_instance_and_warehouse(
    scratch_url: str, tmp_path: Path
) -> None:
    """The production path: JOBNIMBUS_API_KEY set, POSTGRES_URL set, Dagster's storage in
    PostgreSQL. (A rejected key through `gcc run` is test_gcc_run.py's.)"""
    today = clock.now().date()
    server = start_sandbox(jobs=12, seed=3, api_key=KEY, anchor=today, history_days=3)
    home = tmp_path / "state"
    try:
        result = gcc("run", env={
            "GCC_HOME": str(home), "POSTGRES_URL": scratch_url, "JOBNIMBUS_API_KEY": KEY,
            "JOBNIMBUS_BASE_URL": server.base_url,
            "GCC_START_DATE": (today - timedelta(days=3)).isoformat(),
        })  # fmt: skip
    finally:
        server.stop()
    assert "gcc run finished" in result.stdout, result.stderr[-3000:]
    texts: dict[str, str | bytes] = {"stdout": result.stdout, "stderr": result.stderr}
    texts |= warehouse_text(scratch_url)
    texts |= {f"dagster {k}": v for k, v in warehouse_text(dagster_twin(scratch_url)).items()}
    texts |= {f"file {p}": p.read_bytes() for p in home.rglob("*") if p.is_file()
              and "pgdata" not in p.parts}  # fmt: skip
    assert KEY[:6] not in texts["table jobs"] and texts["table jobs"]  # jobs were loaded
    assert "ASSET_MATERIALIZATION" in texts["dagster table event_logs"]
    assert leaks(texts) == []


@pytest.mark.parametrize("verb", [("run",), ("db", "migrate"), ("db", "grant-reader")])
def test_gcc_against_an_unreachable_database_fails_in_one_line_without_secrets(
    verb: tuple[str, ...], tmp_path: Path
) -> None:
    """`gcc run` asks JobNimbus first (a reachable sandbox here), then fails on the database."""
    server = start_sandbox(jobs=5, seed=3, api_key=KEY, anchor=ANCHOR, history_days=5)
    try:
        result = gcc(*verb, env={
            "GCC_HOME": str(tmp_path / "state"), "JOBNIMBUS_API_KEY": KEY,
            "JOBNIMBUS_BASE_URL": server.base_url,
            "POSTGRES_URL": f"postgresql://etl:{DB_PASSWORD}@127.0.0.1:{free_port()}/warehouse",
            "GCC_READER_PASSWORD": READER_PASSWORD,
        })  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 2, result.stderr[-2000:]
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        next(line for line in result.stderr.splitlines() if "cannot reach PostgreSQL" in line)
    ]
    assert "Traceback" not in result.stderr
    assert leaks({"stdout": result.stdout, "stderr": result.stderr}) == []


# ---------------------------------------------------------------- the read-only role


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) was made from the password."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier or "")
    if not match:
        return False
    iterations, salt, stored_key, _ = match.groups()
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt),
                                 int(iterations))  # fmt: skip
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


class Admin:
    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, statement: str, params: tuple | dict = ()) -> list[tuple]:
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def password_of(self, role: str) -> str | None:
        return self.rows("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,))[0][0]

    def privileges(self, role: str) -> list[Any]:
        """Every grant, column grant, default privilege and setting that concerns the role."""
        return self.rows(
            """SELECT 'rel', n.nspname || '.' || c.relname, c.relacl::text
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relacl::text LIKE '%%' || %(r)s || '=%%'
               UNION ALL
               SELECT 'col', a.attrelid::regclass::text || '.' || a.attname, a.attacl::text
               FROM pg_attribute a WHERE a.attacl::text LIKE '%%' || %(r)s || '=%%'
               UNION ALL
               SELECT 'default', d.defaclnamespace::regnamespace::text, d.defaclacl::text
               FROM pg_default_acl d
               UNION ALL
               SELECT 'schema', nspname, nspacl::text FROM pg_namespace
               WHERE nspname IN ('public', 'analytics')
               UNION ALL
               SELECT 'database', datname, datacl::text FROM pg_database
               WHERE datname = current_database()
               UNION ALL
               SELECT 'role', rolname, concat_ws(' ', rolsuper, rolinherit, rolcreaterole,
                      rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconfig::text)
               FROM pg_roles WHERE rolname = %(r)s
               ORDER BY 1, 2""",
            {"r": role},
        )


@pytest.fixture
def reader(warehouse_url: str) -> Iterator[tuple[str, Admin]]:
    """A reader role name unique to the test (roles are per server); dropped afterwards."""
    role = f"gcc_reader_t_{uuid.uuid4().hex[:8]}"
    admin = Admin(warehouse_url)
    yield role, admin
    if admin.rows("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
        admin.rows(f'DROP OWNED BY "{role}"')
        admin.rows(f'DROP ROLE "{role}"')


def as_reader(url: str, role: str) -> Any:
    # The embedded test server trusts local connections (the password is then unused, so the
    # tests check the stored verifier instead); a GCC_TEST_POSTGRES_URL server may check it.
    conn = psycopg2.connect(url, user=role, password=READER_PASSWORD)
    conn.autocommit = True
    return conn


def attempt(conn: Any, statement: str) -> str:
    """'ok' or the name of the error PostgreSQL raised."""
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
        return "ok"
    except psycopg2.Error as exc:
        return type(exc).__name__


def test_the_reader_sees_normalized_columns_and_analytics_but_no_raw_data(
    warehouse_url: str, reader
) -> None:
    role, admin = reader
    done = grant_reader(warehouse_url, ReaderConfig(role, READER_PASSWORD))
    assert done.created and done.tables == len(READABLE_TABLES) and done.views == len(VIEWS)
    conn = as_reader(warehouse_url, role)
    try:
        for table in READABLE_TABLES:
            columns = [c for (c,) in admin.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position", (table,))]  # fmt: skip
            visible = [c for c in columns if c not in WITHHELD_COLUMNS]
            assert attempt(conn, f"SELECT {', '.join(visible)} FROM {table} LIMIT 1") == "ok"
            for column in set(columns) & set(WITHHELD_COLUMNS):
                assert attempt(conn, f"SELECT {column} FROM {table}") == "InsufficientPrivilege"
            if set(columns) & set(WITHHELD_COLUMNS):
                assert attempt(conn, f"SELECT * FROM {table}") == "InsufficientPrivilege"
        views = [v for (v,) in admin.rows(
            "SELECT matviewname FROM pg_matviews WHERE schemaname = 'analytics'")]  # fmt: skip
        assert len(views) == len(VIEWS)
        for view in views:
            assert attempt(conn, f"SELECT * FROM analytics.{view} LIMIT 1") == "ok"
        for table in (*PRIVATE_TABLES, "gcc_settings"):
            assert attempt(conn, f"SELECT count(*) FROM {table}") == "InsufficientPrivilege"
    finally:
        conn.close()


def test_the_reader_cannot_write_create_or_refresh(warehouse_url: str, reader) -> None:
    role, admin = reader
    grant_reader(warehouse_url, ReaderConfig(role, READER_PASSWORD))
    conn = as_reader(warehouse_url, role)
    try:
        assert attempt(conn, "INSERT INTO jobs (id) VALUES ('x')") == "ReadOnlySqlTransaction"
        # the read-only default is only a second fence: privileges hold without it
        assert attempt(conn, "SET default_transaction_read_only = off") == "ok"
        for statement in (
            "INSERT INTO jobs (id) VALUES ('x')",
            "UPDATE jobs SET name = 'x'",
            "DELETE FROM payments",
            "TRUNCATE contacts",
            "INSERT INTO jobnimbus_raw_events (entity_type, entity_id, payload, payload_hash) "
            "VALUES ('job', 'x', '{}', 'x')",
            "CREATE TABLE public.reader_table (x int)",
            "CREATE TABLE analytics.reader_table (x int)",
            "CREATE VIEW analytics.reader_view AS SELECT 1 AS x",
            "REFRESH MATERIALIZED VIEW analytics.pipeline_by_stage",
            "DROP MATERIALIZED VIEW analytics.pipeline_by_stage",
            "ALTER TABLE jobs ADD COLUMN reader_column int",
            "SELECT nextval('jobnimbus_raw_events_id_seq')",
        ):
            assert attempt(conn, statement) == "InsufficientPrivilege", statement
    finally:
        conn.close()
    ((flags,),) = admin.rows(
        "SELECT (rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit, "
        "rolcanlogin)::text FROM pg_roles WHERE rolname = %s",
        (role,),
    )
    assert flags == "(f,f,f,f,f,f,t)"


def test_views_created_later_are_readable_tables_are_not(warehouse_url: str, reader) -> None:
    role, admin = reader
    grant_reader(warehouse_url, ReaderConfig(role, READER_PASSWORD))
    admin.rows("CREATE MATERIALIZED VIEW analytics.added_later AS SELECT 1 AS x")
    admin.rows("CREATE TABLE public.added_later (x int)")
    conn = as_reader(warehouse_url, role)
    try:
        assert attempt(conn, "SELECT x FROM analytics.added_later") == "ok"
        assert attempt(conn, "SELECT x FROM public.added_later") == "InsufficientPrivilege"
    finally:
        conn.close()


def test_grant_reader_is_idempotent_resets_stray_grants_and_sets_the_password(
    warehouse_url: str, reader
) -> None:
    role, admin = reader
    config = ReaderConfig(role, READER_PASSWORD)
    assert grant_reader(warehouse_url, config).created
    first = admin.privileges(role)
    verifier = admin.password_of(role)
    assert verifier.startswith("SCRAM-SHA-256$") and scram_matches(verifier, READER_PASSWORD)
    assert READER_PASSWORD not in verifier  # hashed on the client, never sent in clear

    again = grant_reader(warehouse_url, config)
    assert not again.created
    assert admin.privileges(role) == first
    assert scram_matches(admin.password_of(role), READER_PASSWORD)

    admin.rows(f'GRANT SELECT ON jobnimbus_raw_events, jobs TO "{role}"')
    admin.rows(f'GRANT INSERT ON payments TO "{role}"')
    admin.rows(f'GRANT CREATE ON SCHEMA analytics TO "{role}"')
    assert admin.privileges(role) != first
    grant_reader(warehouse_url, ReaderConfig(role, "a-new-password"))
    assert admin.privileges(role) == first
    assert scram_matches(admin.password_of(role), "a-new-password")
    assert not scram_matches(admin.password_of(role), READER_PASSWORD)


def test_grant_reader_never_takes_over_an_admin_role(warehouse_url: str) -> None:
    admin = Admin(warehouse_url)
    ((me, before),) = admin.rows(
        "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = current_user"
    )
    with pytest.raises(ConfigError, match="cannot be the read-only role"):
        grant_reader(warehouse_url, ReaderConfig(me, READER_PASSWORD))
    assert admin.password_of(me) == before


def test_create_for_public_on_schema_public_is_reported(warehouse_url: str, reader) -> None:
    role, admin = reader
    admin.rows("GRANT CREATE ON SCHEMA public TO PUBLIC")  # the PostgreSQL < 15 default
    done = grant_reader(warehouse_url, ReaderConfig(role, READER_PASSWORD))
    assert any("REVOKE CREATE ON SCHEMA public FROM PUBLIC" in w for w in done.warnings)


def test_gcc_db_grant_reader(scratch_url: str, tmp_path: Path) -> None:
    role = f"gcc_reader_t_{uuid.uuid4().hex[:8]}"
    env = {"GCC_HOME": str(tmp_path), "POSTGRES_URL": scratch_url, "GCC_READER_ROLE": role}
    try:
        # No password given: one is generated and shown once, in the reader's URL, which works.
        generated = gcc("db", "grant-reader", env=env)
        assert generated.returncode == 0, generated.stderr
        url = generated.stdout.strip().splitlines()[-1]
        assert url.startswith(f"postgresql://{role}:") and "***" not in url
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_user")
            assert cur.fetchone()[0] == role
        assert "password was generated" in generated.stderr

        env["GCC_READER_PASSWORD"] = READER_PASSWORD
        first, second = gcc("db", "grant-reader", env=env), gcc("db", "grant-reader", env=env)
        assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
        assert f"'{role}' updated" in first.stdout and f"'{role}' updated" in second.stdout
        assert f"postgresql://{role}:***@" in first.stdout  # a password of yours is not shown
        assert leaks({"first": first.stdout + first.stderr,
                      "second": second.stdout + second.stderr}) == []  # fmt: skip
        assert "grant-reader" in gcc("db", "--help", env=env).stdout
    finally:
        admin = Admin(scratch_url)
        if admin.rows("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
            admin.rows(f'DROP OWNED BY "{role}"')
            admin.rows(f'DROP ROLE "{role}"')


# ---------------------------------------------------------------- SQL is parameterized

# Statements that start with a SQL verb yet interpolate Python values, each reviewed: the value is
# a constant of the code, never input. (path, the f-string's source) -> why it is safe.
REVIEWED_INTERPOLATIONS: dict[tuple[str, str], str] = {}
_SQL_START = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REFRESH|CREATE|ALTER|DROP|GRANT|REVOKE|TRUNCATE|COPY"
    r"|SET|LOCK|VACUUM|ANALYZE)\b",
    re.IGNORECASE,
)
_EXECUTORS = {"execute", "executemany", "mogrify", "copy_expert", "SQL"}


def _interpolated_sql(source: str) -> list[tuple[int, str]]:
    """SQL text built by interpolation: f-strings that start with a SQL verb, and f-strings, `%`
    or `+` concatenations and str.format passed straight to an execute() or sql.SQL()."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and any(
            isinstance(v, ast.FormattedValue) for v in node.values
        ):
            head = node.values[0]
            if isinstance(head, ast.Constant) and _SQL_START.match(str(head.value)):
                found.append(node)
        elif isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            arg = node.args[0]
            dynamic = (
                isinstance(arg, ast.BinOp)
                and isinstance(arg.op, ast.Mod | ast.Add)
                and any(_is_text(side) for side in (arg.left, arg.right))
            ) or (
                isinstance(arg, ast.Call)
                and getattr(arg.func, "attr", None) == "format"
                and isinstance(getattr(arg.func, "value", None), ast.Constant)
            )
            if name in _EXECUTORS and dynamic:
                found.append(arg)
    return sorted((n.lineno, ast.get_source_segment(source, n) or "") for n in found)


def _is_text(node: ast.expr) -> bool:
    """A str literal or f-string (sql.Composable + sql.Composable is composition, not text)."""
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_sql_is_parameterized_or_composed_except_reviewed_places() -> None:
    unreviewed, seen = [], set()
    for path in sorted((PROJECT_ROOT / "gcc_pipeline").rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        for line, snippet in _interpolated_sql(path.read_text()):
            if (relative, snippet) in REVIEWED_INTERPOLATIONS:
                seen.add((relative, snippet))
            else:
                unreviewed.append(f"{relative}:{line}: {snippet}")
    assert unreviewed == [], "interpolated SQL: use parameters or psycopg2.sql composition"
    assert seen == set(REVIEWED_INTERPOLATIONS), "a reviewed place is gone: drop it from the list"


def test_the_secret_scan_finds_what_it_looks_for() -> None:
    assert leaks({"a": f"Bearer {KEY}", "b": base64.b64encode(DB_PASSWORD.encode())}) == [
        f"{KEY[:8]}... in a",
        f"{DB_PASSWORD[:8]}... in b",
    ]


def test_the_static_check_catches_interpolation() -> None:
    bad = (
        "def f(cur, name, v):\n"
        "    cur.execute(f\"SELECT * FROM t WHERE name = '{name}'\")\n"
        "    cur.execute('SELECT * FROM t WHERE v = %s' % v)\n"
        "    cur.execute('DELETE FROM t WHERE v = ' + v)\n"
        "    cur.execute('UPDATE t SET v = {}'.format(v))\n"
        "    q = f'INSERT INTO t VALUES ({v})'\n"
        "    cur.execute('SELECT * FROM t WHERE v = %s', (v,))\n"
        "    log(f'selected {v} rows')\n"
    )
    assert [line for line, _ in _interpolated_sql(bad)] == [2, 3, 4, 5, 6]
