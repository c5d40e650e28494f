"""Markdown tables for Dagster metadata (the UI renders them) and for the terminal summary."""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def cell(value: Any) -> str:
    """One value as table text: ISO dates, plain decimals, pipes escaped, one line."""
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-style markdown table."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)
