"""Named SQL statements kept in sql/load/, read once."""

import hashlib
from functools import cache

from gcc_pipeline.settings import SQL_DIR


@cache
def query(name: str) -> str:
    """The text of sql/load/<name>.sql (pyformat parameters, for psycopg2)."""
    return (SQL_DIR / "load" / f"{name}.sql").read_text()


def code_version(*names: str) -> str:
    """A Dagster code_version for an asset defined by these statements: it changes when one of
    their files does, so the UI marks the asset (and what is downstream) as changed."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(query(name).encode())
    return digest.hexdigest()[:16]
