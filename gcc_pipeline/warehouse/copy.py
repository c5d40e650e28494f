"""COPY text-format encoding, so bulk loads go through `copy_expert` instead of INSERT loops."""

import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg2 import sql


def _escape(text: str) -> str:
    # Four C-level replaces beat str.translate with a dict by ~10x on long JSON strings.
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def _array_item(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode(value: Any) -> str:
    """One field in COPY text format (strings first: most fields are)."""
    kind = type(value)
    if kind is str:
        return _escape(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime:
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return _escape("{" + ",".join(_array_item(v) for v in value) + "}")
    if isinstance(value, datetime):
        return value.isoformat()
    return _escape(str(value))


def copy_buffer(rows: Iterable[Sequence[Any]]) -> io.StringIO:
    """Rows encoded for COPY; built apart from the database call so it can run on another thread."""
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write("\t".join(map(encode, row)))
        write("\n")
    buffer.seek(0)
    return buffer


_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}
_ESCAPED = re.compile(r"\\(.)")


def decode(field: str) -> str | None:
    """One COPY text-format field back: the inverse of `encode` (NULL, then its escapes)."""
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(1)), field)


def insert_statement(cursor: Any, table: str, columns: Sequence[str], buffer: io.StringIO) -> bytes:
    """The rows of a COPY buffer as one INSERT, to send with the statements that follow it: a
    few rows cost one round trip this way, where a COPY costs two (its start, then its data)."""
    lines = buffer.getvalue().split("\n")  # escaped inside fields: only rows end with one
    rows = [tuple(map(decode, line.split("\t"))) for line in lines if line]
    head = sql.SQL("INSERT INTO {} ({}) VALUES ").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return head.as_string(cursor).encode() + b", ".join(cursor.mogrify(marks, r) for r in rows)


def copy_into(cursor: Any, table: str, columns: Sequence[str], buffer: io.StringIO) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    # Large reads: psycopg2 pulls the buffer in `size` pieces, each a Python call.
    cursor.copy_expert(statement.as_string(cursor), buffer, size=1 << 20)


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY rows into a table; the caller controls the transaction."""
    copy_into(cursor, table, columns, copy_buffer(rows))
