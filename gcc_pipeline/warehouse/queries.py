"""Named SQL statements kept in sql/load/, read once."""

from functools import cache

from gcc_pipeline.settings import SQL_DIR


@cache
def query(name: str) -> str:
    """The text of sql/load/<name>.sql (pyformat parameters, for psycopg2)."""
    return (SQL_DIR / "load" / f"{name}.sql").read_text()
