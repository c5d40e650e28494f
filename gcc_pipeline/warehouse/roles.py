"""The read-only login role for dashboards and AI agents (`gcc db grant-reader`).

The role reads the normalized tables (every column except the raw payload, `raw`, and its hash,
`payload_hash`) and every view of schema `analytics`, including views created later. It cannot
read the raw events, the quarantine, the ingestion log, run failures or the migration ledger, and
it cannot write: no INSERT/UPDATE/DELETE, no CREATE on schemas `public` and `analytics` (its
sessions also default to read-only transactions, a second fence it could lower itself but that
no table privilege backs).

Run it again after a migration that adds columns to a normalized table: column grants name the
columns that exist when it runs. Every run revokes first, so the result is the same every time.

The password never reaches the server in clear text: libpq hashes it (SCRAM-SHA-256, or what the
server's `password_encryption` asks for) on the client, as psql's `\\password` does, so it is not
in server logs either. It is printed only when `gcc` generated it (no GCC_READER_PASSWORD): once,
in the reader URL, since nobody else knows it.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from gcc_pipeline.settings import ConfigError, Settings, reader_password
from gcc_pipeline.streams import PRIVATE_TABLES as PRIVATE
from gcc_pipeline.streams import all_tables
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.server import connect
from gcc_pipeline.warehouse.urls import database_of, describe_host

READABLE_TABLES = tuple(t.name for t in all_tables() if t.reader_visible)
WITHHELD_COLUMNS = ("raw", "payload_hash")  # the raw payload and what identifies it
PRIVATE_TABLES = (
    *PRIVATE,
    *(t.name for t in all_tables() if not t.reader_visible),
)
READER_SCHEMAS = ("public", "analytics")
WRITE_PRIVILEGES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_NAME_LIMIT = 63  # PostgreSQL's NAMEDATALEN - 1


@dataclass(frozen=True)
class ReaderConfig:
    role: str
    password: str = field(repr=False)
    generated: bool = False  # no GCC_READER_PASSWORD: this one was made up, and is shown once

    def __str__(self) -> str:
        return f"ReaderConfig(role={self.role!r}, password='***')"


@dataclass(frozen=True)
class ReaderGrant:
    """What `grant_reader` did, for one summary line (and warnings)."""

    role: str
    created: bool
    tables: int
    columns: int
    views: int
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        return (
            f"reader role {self.role!r} {'created' if self.created else 'updated'}: SELECT on "
            f"{self.tables} tables ({self.columns} columns; {', '.join(WITHHELD_COLUMNS)} "
            f"withheld) and {self.views} analytics views (future ones too); no access to "
            f"{', '.join(PRIVATE_TABLES)}; no writes; password set (not shown)"
        )


def reader_config(settings: Settings, environ: Mapping[str, str] | None = None) -> ReaderConfig:
    """GCC_READER_ROLE (default gcc_reader) and GCC_READER_PASSWORD (else a generated one)."""
    role = settings.reader_role
    password = reader_password(environ)
    if len(role.encode()) > _NAME_LIMIT or "\x00" in role:
        raise ConfigError("GCC_READER_ROLE must be a PostgreSQL role name of at most 63 bytes")
    if password is None:
        return ReaderConfig(role, secrets.token_urlsafe(24), generated=True)
    return ReaderConfig(role, password)


def reader_url(server_url: str, config: ReaderConfig, *, reveal: bool) -> str:
    """The URL dashboards and agents connect with: the warehouse's, as the reader role."""
    parts = urlsplit(server_url)
    secret = quote(config.password, safe="") if reveal else "***"
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(config.role, safe='')}:{secret}@{host}"))


def _refuse_privileged(cur, role: str) -> None:
    """Never turn an admin (or the warehouse's own user) into the reader, nor reset its password."""
    cur.execute(
        """SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls,
                  rolname = current_user,
                  EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid),
                  EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid)
           FROM pg_roles r WHERE rolname = %s""",
        (role,),
    )
    row = cur.fetchone()
    if row is None:
        return
    privileged, is_me, owns, member = row
    why = (
        "it is the user the warehouse connects as" if is_me
        else "it has SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS" if privileged
        else "it owns tables in this database" if owns
        else "it is a member of other roles" if member
        else None
    )  # fmt: skip
    if why:
        raise ConfigError(
            f"role {role!r} already exists and {why}; it cannot be the read-only role "
            "(set GCC_READER_ROLE to another name)"
        )


def _readable_columns(cur) -> dict[str, list[str]]:
    cur.execute(
        """SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position)
           FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = ANY(%s)
             AND NOT column_name = ANY(%s)
           GROUP BY table_name""",
        (list(READABLE_TABLES), list(WITHHELD_COLUMNS)),
    )
    found = dict(cur.fetchall())
    missing = [t for t in READABLE_TABLES if t not in found]
    if missing:
        raise ConfigError(f"the warehouse lacks {', '.join(missing)}; run `gcc db migrate` first")
    return found


def _check(cur, role: str, columns: dict[str, list[str]]) -> tuple[int, list[str]]:
    """Ask PostgreSQL what the role can do now; anything off is an error (or a warning)."""
    problems: list[str] = []
    cur.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
             AND NOT has_table_privilege(%(role)s, c.oid, 'SELECT')""",
        {"role": role},
    )
    problems += [f"cannot read analytics.{name}" for (name,) in cur.fetchall()]
    cur.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'analytics' AND c.relkind IN ('v', 'm')"
    )
    views = cur.fetchone()[0]
    for table, cols in columns.items():
        cur.execute(
            """SELECT array_agg(col) FILTER (WHERE NOT has_column_privilege(%(role)s, %(t)s, col,
                                                                           'SELECT'))
               FROM unnest(%(cols)s::text[]) AS col""",
            {"role": role, "t": f"public.{table}", "cols": cols},
        )
        unreadable = cur.fetchone()[0]
        if unreadable:
            problems.append(f"cannot read {table}({', '.join(unreadable)})")
    cur.execute(
        """SELECT n.nspname || '.' || c.relname, p.privilege
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN unnest(%(privs)s::text[] || ARRAY['SELECT']) AS p(privilege)
           WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
             AND has_table_privilege(%(role)s, c.oid, p.privilege)
             AND (p.privilege <> 'SELECT' OR (n.nspname = 'public'))""",
        {"role": role, "privs": list(WRITE_PRIVILEGES), "schemas": list(READER_SCHEMAS)},
    )
    problems += [f"has {priv} on {name}" for name, priv in cur.fetchall()]
    for table in PRIVATE_TABLES + READABLE_TABLES:
        cur.execute(
            "SELECT array_agg(attname::text) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
            "AND attnum > 0 AND NOT attisdropped AND has_column_privilege(%s, attrelid, attnum, "
            "'SELECT') AND (%s OR attname = ANY(%s))",
            (f"public.{table}", role, table in PRIVATE_TABLES, list(WITHHELD_COLUMNS)),
        )
        leaked = cur.fetchone()[0]
        if leaked:
            problems.append(f"can read {table}({', '.join(leaked)})")
    if problems:
        raise ConfigError(
            f"could not make {role!r} read-only as intended: {'; '.join(problems)} "
            "(the user running gcc must own the warehouse's tables)"
        )
    warnings = [
        f"every role may CREATE in schema {schema} (the PostgreSQL < 15 default), so {role!r} "
        f"can too; `REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC` closes it for every role"
        for schema in READER_SCHEMAS
        if _has_schema_create(cur, role, schema)
    ]
    return views, warnings


def _has_schema_create(cur, role: str, schema: str) -> bool:
    cur.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", (role, schema))
    return bool(cur.fetchone()[0])


def grant_reader(url: str, config: ReaderConfig) -> ReaderGrant:
    """Create or update the reader role and set its privileges exactly (one transaction)."""
    role = sql.Identifier(config.role)
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            # One grant-reader at a time (CREATE ROLE is not IF NOT EXISTS).
            cur.execute("SELECT pg_advisory_xact_lock(7042025002)")
            _refuse_privileged(cur, config.role)
            cur.execute("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)", (config.role,))
            exists = cur.fetchone()[0]
            verifier = encrypt_password(config.password, config.role, conn)
            cur.execute(
                sql.SQL("{} ROLE {} WITH LOGIN NOINHERIT PASSWORD {}").format(
                    sql.SQL("ALTER" if exists else "CREATE"), role, sql.Literal(verifier)
                )
            )
            columns = _readable_columns(cur)
            cur.execute(
                sql.SQL(query("grant_reader")).format(
                    role=role, database=sql.Identifier(database_of(url))
                )
            )
            for table, cols in sorted(columns.items()):
                cur.execute(
                    sql.SQL("GRANT SELECT ({}) ON TABLE {} TO {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, cols)),
                        sql.Identifier("public", table),
                        role,
                    )
                )
            views, warnings = _check(cur, config.role, columns)
    except psycopg2.Error as exc:
        # Server messages name roles and objects, never the password (it is sent hashed).
        raise ConfigError(
            f"cannot set up the reader role on {describe_host(url)}: "
            f"{(exc.pgerror or str(exc)).strip().splitlines()[0]}"
        ) from None
    finally:
        conn.close()
    return ReaderGrant(
        role=config.role,
        created=not exists,
        tables=len(columns),
        columns=sum(len(c) for c in columns.values()),
        views=views,
        warnings=tuple(warnings),
    )
