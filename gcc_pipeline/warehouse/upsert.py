"""Set-based upsert from a staging table that never lets an older payload win.

The version comparison is (date_updated, payload_hash): a newer payload always replaces an older
one, and two payloads with the same date_updated resolve the same way in any order, so reruns and
backfills converge whatever order they run in.
"""

from collections.abc import Sequence

from psycopg2 import sql


def upsert_statement(
    table: str,
    columns: Sequence[str],
    *,
    version: str,
    touched: str,
    with_raw: bool = True,
) -> sql.Composed:
    """INSERT .. ON CONFLICT (id) DO UPDATE .. RETURNING (xmax = 0), i.e. true for new rows.

    Rows come from stage_rows (JSON, typed by jsonb_populate_record as the table's own row
    type). The `raw` column comes from stage_raw (same transaction, joined on id and payload
    hash), so each payload crosses the wire and is parsed into jsonb once, not twice."""
    target_cols = [*columns, "raw"] if with_raw else list(columns)
    cols = sql.SQL(", ").join(map(sql.Identifier, target_cols))
    staged = sql.SQL(", ").join(
        [sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns]
        + ([sql.SQL("r.payload")] if with_raw else [])
    )
    raw_join = (
        sql.SQL("JOIN stage_raw r ON r.entity_id = s.id AND r.payload_hash = s.payload_hash")
        if with_raw
        else sql.SQL("")
    )
    updates = sql.SQL(", ").join(
        [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in target_cols if c != "id"]
        + [sql.SQL("{} = now()").format(sql.Identifier(touched))]
    )
    return sql.SQL(
        """
        INSERT INTO {table} AS t ({cols})
        SELECT DISTINCT ON (s.id) {staged}
        FROM (SELECT r.* FROM stage_rows j,
                  jsonb_populate_record(NULL::{table}, j.row) r) s
        {raw_join}
        ORDER BY s.id, s.{version} DESC NULLS LAST, s.payload_hash DESC
        ON CONFLICT (id) DO UPDATE SET {updates}
        WHERE (coalesce(EXCLUDED.{version}, '-infinity'), EXCLUDED.payload_hash)
            > (coalesce(t.{version}, '-infinity'), coalesce(t.payload_hash, ''))
        RETURNING (xmax = 0)
        """
    ).format(
        table=sql.Identifier(table),
        cols=cols,
        staged=staged,
        raw_join=raw_join,
        updates=updates,
        version=sql.Identifier(version),
    )
