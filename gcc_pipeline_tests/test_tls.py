"""TLS to PostgreSQL, as a hosted warehouse (Neon, Vercel Postgres) requires it: the warehouse,
Dagster's storage and `gcc run` work with `sslmode=require` and `verify-full`, a wrong CA or a
plain connection fails in one line, and every connection really was TLS.

The test server is plain (the embedded build has no SSL); bench/tlsproxy.py terminates TLS in
front of it with a throwaway CA made by the `openssl` command, and counts the handshakes.
"""

import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from bench.netdelay import postgres_target
from bench.tlsproxy import (
    GSSENC_REQUEST,
    SSL_REQUEST,
    Certificates,
    TlsProxy,
    hosted_postgres,
)
from gcc_pipeline.settings import PROJECT_ROOT, load_settings
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.server import resolve_target
from gcc_pipeline.warehouse.urls import (
    database_of,
    describe_host,
    for_sqlalchemy,
    redact,
    with_database,
)
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import full_backfill, sandbox
from gcc_pipeline_tests.test_gcc_run import gcc_env

SECRET = "tls-Pa55word-7731"  # the test server trusts every login: a password it never checks

pytestmark = pytest.mark.skipif(  # ok: openssl makes the certificates (Debian has it)
    shutil.which("openssl") is None, reason="the openssl command makes the test certificates"
)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("tls") / "certs")


@pytest.fixture(scope="module")
def stranger_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another throwaway CA: it did not sign the proxy's certificate."""
    return Certificates.create(tmp_path_factory.mktemp("tls") / "stranger").ca


@pytest.fixture(scope="module")
def tls(pg_server_url: str, certificates: Certificates) -> Iterator[TlsProxy]:
    """The test server as a hosted one: TLS required."""
    with TlsProxy.for_postgres(pg_server_url, certificates) as proxy:
        yield proxy


@pytest.fixture
def database(pg_server_url: str) -> Iterator[str]:
    """A new database (with a password in its URL) and its `_dagster` twin, dropped after."""
    url = create_database(pg_server_url).replace("postgres:@", f"postgres:{SECRET}@", 1)
    yield url
    drop_database(pg_server_url, url)
    drop_database(pg_server_url, with_database(url, database_of(url) + "_dagster"))


class Tally:
    """What the proxy saw since this was made."""

    def __init__(self, proxy: TlsProxy) -> None:
        self.proxy = proxy
        self.before = dict(proxy.stats())

    def __getitem__(self, key: str) -> int:
        return self.proxy.stats()[key] - self.before[key]

    def applications(self) -> set[str]:
        """The application_names that connected (read from the decrypted startup packets)."""
        before, now = self.before["by_application"], self.proxy.stats()["by_application"]
        return {
            app for app, counts in now.items()
            if counts["connections"] > before.get(app, {}).get("connections", 0)
        }  # fmt: skip


def scalar(url: str, statement: str, params: tuple = ()) -> object:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0]


NEON = (
    f"postgresql://owner:{SECRET}@ep-cool-name-a1b2c3.us-east-2.aws.neon.tech/neondb"
    "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt&channel_binding=require"
)
TLS_QUERY = "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt"


def test_every_url_rewrite_keeps_the_tls_parameters_and_hides_the_password() -> None:
    twin = with_database(NEON, "neondb_dagster")
    assert twin.startswith("postgresql://owner:") and "/neondb_dagster?" + TLS_QUERY in twin
    assert "&channel_binding=require" in twin
    assert for_sqlalchemy(twin) == "postgresql+psycopg2" + twin.removeprefix("postgresql")
    assert redact(NEON) == NEON.replace(SECRET, "***")
    assert describe_host(NEON) == "ep-cool-name-a1b2c3.us-east-2.aws.neon.tech/neondb"
    settings = load_settings({"POSTGRES_URL": NEON.replace("postgresql:", "postgres:", 1)})
    target = resolve_target(settings)  # Vercel's `postgres://` spelling
    assert target.warehouse_url == NEON
    assert target.dagster_url == with_database(NEON, "neondb_dagster")
    assert "sslmode=verify-full" in target.describe() and SECRET not in target.describe()


def test_libpq_s_query_spellings_of_database_and_password_are_honoured() -> None:
    url = f"postgresql://owner@db.example/?dbname=growth&password={SECRET}&sslmode=require"
    assert database_of(url) == "growth" and describe_host(url) == "db.example/growth"
    other = with_database(url, "postgres")  # a dbname parameter would beat the path
    assert database_of(other) == "postgres" and "sslmode=require" in other
    assert SECRET not in redact(url) and "password=***" in redact(url)


def test_the_proxy_speaks_postgresql_s_tls_opening(tls: TlsProxy) -> None:
    """GSSENCRequest -> 'N', then SSLRequest -> 'S' and a verified handshake on the same
    connection; a startup in the clear gets the error a TLS-only server sends."""
    request = struct.pack("!II", 8, GSSENC_REQUEST), struct.pack("!II", 8, SSL_REQUEST)
    client = ssl.create_default_context(cafile=str(tls.certificates.ca))
    with socket.create_connection(tls.address, timeout=10) as raw:
        raw.sendall(request[0])
        assert raw.recv(1) == b"N"
        raw.sendall(request[1])
        assert raw.recv(1) == b"S"
        with client.wrap_socket(raw, server_hostname="127.0.0.1") as encrypted:
            assert encrypted.version() in ("TLSv1.2", "TLSv1.3")
    params = b"user\0postgres\0database\0postgres\0\0"
    startup = struct.pack("!II", 8 + len(params), 196608) + params  # protocol 3.0, in the clear
    with socket.create_connection(tls.address, timeout=10) as raw:
        raw.sendall(startup)
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    assert answer[:1] == b"E" and b"SSL required" in answer and b"28000" in answer


def test_sslmode_require_carries_the_migrations_and_a_pipeline_run(
    tls: TlsProxy, database: str
) -> None:
    url = tls.rewrite_url(database, sslmode="require")
    seen = Tally(tls)

    applied = migrate(url)
    with sandbox(jobs=60, seed=23, history_days=90) as server:
        result = full_backfill(server, url)
        company = server.company

    assert applied.applied and result.success
    assert scalar(database, "SELECT count(*) FROM jobs") == company.count("jobs") > 0
    assert scalar(database, "SELECT count(*) FROM payments") == company.count("payments")
    assert scalar(database, "SELECT count(*) FROM job_status_history") > 0
    assert seen["connections"] > 3
    assert seen["tls_handshakes"] == seen["connections"]  # every one of them was TLS
    assert seen["refused_plain"] == seen["relayed_plain"] == 0


def test_the_client_side_says_tls_too(tls: TlsProxy, database: str) -> None:
    conn = psycopg2.connect(tls.rewrite_url(database, sslmode="require"))
    try:
        assert conn.info.ssl_in_use
        assert conn.info.ssl_attribute("protocol") in ("TLSv1.2", "TLSv1.3")
    finally:
        conn.close()


def test_dagster_storage_over_verified_tls_stores_a_run_and_reads_it_back(
    tls: TlsProxy, database: str, tmp_path: Path
) -> None:
    """The instance `gcc` opens, found from dagster.yaml with only POSTGRES_URL set: the
    `_dagster` twin is created on the same server and every storage connects through TLS."""
    url = tls.rewrite_url(database, sslmode="verify-full", sslrootcert=str(tls.certificates.ca))
    code = (
        "import json, dagster as dg\n"
        "from gcc_pipeline.pipeline_run import instance_for\n"
        "from gcc_pipeline.settings import load_settings\n"
        "@dg.asset\n"
        "def probe() -> int:\n"
        "    return 1\n"
        "run = dg.materialize([probe], instance=instance_for(load_settings()))\n"
        "again = instance_for(load_settings())\n"
        "with again.run_storage.connect() as conn:\n"
        "    ssl_in_use = conn.connection.dbapi_connection.info.ssl_in_use\n"
        "from gcc_pipeline.warehouse.urls import query_param as q\n"
        "used = again.run_storage.postgres_url\n"
        "print(json.dumps({'storage': type(again.run_storage).__name__,\n"
        "    'tls': [q(used, 'sslmode'), q(used, 'sslrootcert')],\n"
        "    'status': again.get_run_by_id(run.run_id).status.value, 'ssl': ssl_in_use,\n"
        "    'events': len(again.all_logs(run.run_id)), 'run_id': run.run_id,\n"
        "    'materialized': again.get_latest_materialization_event(dg.AssetKey('probe'))\n"
        "    is not None}))\n"
    )
    seen = Tally(tls)

    done = subprocess.run(
        [sys.executable, "-c", code], env=gcc_env(tmp_path / "state", POSTGRES_URL=url),
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["storage"] == "GccRunStorage" and shown["ssl"] is True
    assert shown["tls"] == ["verify-full", str(tls.certificates.ca)]
    assert shown["status"] == "SUCCESS" and shown["materialized"] and shown["events"] > 5
    twin = with_database(database, database_of(database) + "_dagster")
    assert scalar(twin, "SELECT count(*) FROM runs WHERE run_id = %s", (shown["run_id"],)) == 1
    assert seen["connections"] > 0 and seen["tls_handshakes"] == seen["connections"]
    assert seen["failed_handshakes"] == seen["refused_plain"] == 0
    assert SECRET not in done.stdout + done.stderr


def migrate_through(url: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    """`gcc db migrate` with POSTGRES_URL `url`; OpenSSL's SSL_CERT_FILE only when given."""
    inherited = (
        "POSTGRES_URL",
        "DAGSTER_POSTGRES_URL",
        "GCC_HOME",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    )
    full = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "db", "migrate"],
        env={**full, "POSTGRES_URL": url, "GCC_HOME": str(home), **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_verify_full_with_the_server_s_ca_migrates(
    tls: TlsProxy, database: str, tmp_path: Path
) -> None:
    url = tls.rewrite_url(database, sslmode="verify-full", sslrootcert=str(tls.certificates.ca))
    seen = Tally(tls)

    result = migrate_through(url, tmp_path)

    assert result.returncode == 0, result.stderr
    assert "sslmode=verify-full" in result.stderr  # said when it starts
    assert scalar(database, "SELECT to_regclass('public.jobs') IS NOT NULL")
    assert seen["tls_handshakes"] == seen["connections"] > 0
    assert SECRET not in result.stdout + result.stderr


def test_sslrootcert_system_reads_the_roots_ssl_cert_file_names(
    tls: TlsProxy, database: str, tmp_path: Path
) -> None:
    """The README's claim: psycopg2's bundled libpq supports `sslrootcert=system`, and finds
    the machine's roots where SSL_CERT_FILE says (its own OpenSSL looks in its build folder)."""
    url = tls.rewrite_url(database, sslmode="verify-full", sslrootcert="system")

    without = migrate_through(url, tmp_path)
    named = migrate_through(url, tmp_path, SSL_CERT_FILE=str(tls.certificates.ca))

    assert without.returncode == 2 and "SSL_CERT_FILE" in without.stderr
    assert named.returncode == 0, named.stderr


@pytest.mark.parametrize(
    ("params", "says", "counted"),
    [
        ({"sslmode": "verify-full", "sslrootcert": "stranger"},
         "does not hold the CA that signed the server's certificate", "failed_handshakes"),
        ({"sslmode": "verify-full"}, "need sslrootcert=", "failed_handshakes"),
        ({"sslmode": "disable"}, "add ?sslmode=require to the URL", "refused_plain"),
    ],
    ids=["a CA that did not sign the certificate", "verify-full without sslrootcert",
         "sslmode=disable on a server that requires TLS"],
)  # fmt: skip
def test_a_tls_failure_is_one_line_naming_the_server_without_the_password(
    tls: TlsProxy, database: str, stranger_ca: Path, tmp_path: Path, params, says, counted
) -> None:
    if params.get("sslrootcert") == "stranger":
        params = {**params, "sslrootcert": str(stranger_ca)}
    url = tls.rewrite_url(database, **params)
    seen = Tally(tls)

    result = migrate_through(url, tmp_path, HOME=str(tmp_path))  # no ~/.postgresql/root.crt

    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert f"127.0.0.1:{tls.port}/{database_of(database)}" in errors[0]
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert seen["tls_handshakes"] == 0  # refused before any session began
    assert seen[counted] > 0


def test_gcc_run_on_a_server_that_requires_tls_exits_0(
    tls: TlsProxy, database: str, tmp_path: Path
) -> None:
    """The whole `gcc run` with POSTGRES_URL ...?sslmode=require: warehouse and Dagster's
    storage (the `_dagster` twin on the same server) over TLS, on a tiny sandbox company."""
    url = tls.rewrite_url(database, sslmode="require")
    home = tmp_path / "state"
    seen = Tally(tls)

    run = subprocess.run(
        [sys.executable, "-m", "gcc_pipeline.cli", "run"], env=gcc_env(home, POSTGRES_URL=url),
        capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert "PostgreSQL from POSTGRES_URL" in run.stderr and "sslmode=require" in run.stderr
    assert "rows per table:" in run.stdout and "Traceback" not in run.stderr
    assert not (home / "pgdata").exists()  # no embedded server was started
    assert scalar(database, "SELECT count(*) FROM jobs") > 0
    assert scalar(database, "SELECT count(*) FROM jobnimbus_ingestion_log") > 0
    twin = with_database(database, database_of(database) + "_dagster")
    status = "SELECT status FROM runs WHERE pipeline_name = 'sync_job'"
    assert scalar(twin, status) == "SUCCESS"
    assert seen["connections"] > 3 and seen["tls_handshakes"] == seen["connections"]
    assert seen["refused_plain"] == seen["failed_handshakes"] == 0
    # the warehouse's connections and each of Dagster's storages' came through the TLS proxy
    assert {"gcc-warehouse", "gcc-dagster-runs", "gcc-dagster-events"} <= seen.applications()
    assert SECRET not in run.stdout + run.stderr


def test_the_command_line_serves_tls_that_far_away(pg_server_url: str, tmp_path: Path) -> None:
    """`python -m bench.tlsproxy --delay-ms N`: the bench's hosted server, from a shell."""
    target = postgres_target(pg_server_url)
    where = target if isinstance(target, str) else f"{target[0]}:{target[1]}"
    folder = tmp_path / "certs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.tlsproxy", "--target", where, "--certs", str(folder),
         "--delay-ms", "2"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        host, _, port = proc.stdout.readline().strip().rpartition(":")
        conn = psycopg2.connect(
            host=host, port=int(port), user="postgres", dbname="postgres",
            sslmode="verify-full", sslrootcert=str(Certificates(folder).ca),
        )  # fmt: skip
        try:
            assert conn.info.ssl_in_use
        finally:
            conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == 0


def test_a_distant_hosted_server_delays_the_encrypted_stream(
    pg_server_url: str, certificates: Certificates
) -> None:
    """hosted_postgres(delay_ms=...): the delay sits in front of the TLS proxy, so it carries
    the handshake too (the bench's "hosted PostgreSQL, 5 ms away")."""
    with hosted_postgres(pg_server_url, certificates, delay_ms=2) as hosted:
        assert hosted.delay is not None
        conn = psycopg2.connect(hosted.url)
        try:
            assert conn.info.ssl_in_use
        finally:
            conn.close()
        front, tls = hosted.delay.stats(), hosted.tls.stats()
    assert front["connections"] == tls["connections"] == tls["tls_handshakes"] == 1
    # what the delay carried is encrypted: the handshake and records outweigh the plain relay
    assert front["bytes_down"] > tls["bytes_down"] and front["bytes_up"] > tls["bytes_up"]
