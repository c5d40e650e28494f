"""Set-based upsert from a staging table that never lets an older payload win.

The version comparison is (date_updated, payload_hash): a newer payload always replaces an older
one, and two payloads with the same date_updated resolve the same way in any order, so reruns and
backfills converge whatever order they run in.
"""

from collections.abc import Sequence

from psycopg2 import sql


def upsert_statement(
    table: str, staging: str, columns: Sequence[str], *, version: str, touched: str
) -> sql.Composed:
    """INSERT .. ON CONFLICT (id) DO UPDATE .. RETURNING (xmax = 0), i.e. true for new rows."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates = sql.SQL(", ").join(
        [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in columns if c != "id"]
        + [sql.SQL("{} = now()").format(sql.Identifier(touched))]
    )
    return sql.SQL(
        """
        INSERT INTO {table} AS t ({cols})
        SELECT DISTINCT ON (id) {cols} FROM {staging}
        ORDER BY id, {version} DESC NULLS LAST, payload_hash DESC
        ON CONFLICT (id) DO UPDATE SET {updates}
        WHERE (coalesce(EXCLUDED.{version}, '-infinity'), EXCLUDED.payload_hash)
            > (coalesce(t.{version}, '-infinity'), coalesce(t.payload_hash, ''))
        RETURNING (xmax = 0)
        """
    ).format(
        table=sql.Identifier(table),
        staging=sql.Identifier(staging),
        cols=cols,
        updates=updates,
        version=sql.Identifier(version),
    )
