"""Named SQL statements kept in sql/load/, read once; the dashboard queries of sql/dashboard/."""

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from psycopg2 import sql

from gcc_pipeline.settings import SQL_DIR

if TYPE_CHECKING:
    from gcc_pipeline.streams import Stream

DASHBOARD_DIR = SQL_DIR / "dashboard"


@cache
def query(name: str) -> str:
    """The text of sql/load/<name>.sql (pyformat parameters, for psycopg2)."""
    return (SQL_DIR / "load" / f"{name}.sql").read_text()


def stream_statement(name: str, stream: "Stream") -> sql.Composed:
    """sql/load/<name>.sql on one stream's table: {table}, {version}, {touched} and
    {source_filter} (the stream's own rows, where several streams feed one table)."""
    table = stream.table
    only_this_stream = (
        sql.SQL("AND t.{} = {}").format(
            sql.Identifier(table.discriminator), sql.Literal(stream.entity_type)
        )
        if table.discriminator
        else sql.SQL("")
    )
    return sql.SQL(query(name)).format(
        table=sql.Identifier(table.name),
        version=sql.Identifier(table.version),
        touched=sql.Identifier(table.touched),
        source_filter=only_this_stream,
    )


def code_version(*names: str) -> str:
    """A Dagster code_version for an asset defined by these statements: it changes when one of
    their files does, so the UI marks the asset (and what is downstream) as changed."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(query(name).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class DashboardQuery:
    """One owners' question and the documented query on one view that answers it."""

    name: str  # the file name without number and extension, e.g. revenue_this_month
    question: str  # the file's leading comment
    sql: str  # the statement (pyformat parameters)

    @property
    def parameters(self) -> list[str]:
        return list(dict.fromkeys(re.findall(r"%\((\w+)\)s", self.sql)))

    @property
    def view(self) -> str:
        (view,) = set(re.findall(r"\banalytics\.(\w+)", self.sql))
        return view


@cache
def dashboard_queries() -> tuple[DashboardQuery, ...]:
    """sql/dashboard/NN_<name>.sql in order: a comment (the question), then the query."""
    out = []
    for path in sorted(DASHBOARD_DIR.glob("[0-9][0-9]_*.sql")):
        lines = path.read_text().strip().splitlines()
        comment = [line.removeprefix("--").strip() for line in lines if line.startswith("--")]
        body = [line for line in lines if not line.startswith("--")]
        out.append(DashboardQuery(path.stem.split("_", 1)[1], " ".join(comment), "\n".join(body)))
    return tuple(out)
