"""The one statement that lands a staged chunk: raw payloads, quarantine and the table's upsert.

The version comparison is (date_updated, payload_hash): a newer payload always replaces an older
one, and two payloads with the same date_updated resolve the same way in any order, so reruns and
backfills converge whatever order they run in.
"""

from collections.abc import Sequence

from psycopg2 import sql

from gcc_pipeline.warehouse.queries import query


def land_chunk_statement(
    table: str,
    columns: Sequence[str],
    *,
    version: str,
    touched: str,
    with_raw: bool = True,
) -> sql.Composed:
    """sql/load/land_chunk.sql for `table`: returns (new raw payloads, rows inserted, rows
    inserted or updated) and empties the staging table, all in one statement (one round trip
    per chunk on a distant database, and atomic without a transaction of its own).

    Rows arrive as JSON in stage_landing.row, typed by jsonb_populate_record as the table's own
    row type; the `raw` column is the same staged row's payload, so each payload crosses the
    wire and is parsed into jsonb once."""
    target_cols = [*columns, "raw"] if with_raw else list(columns)
    staged = sql.SQL(", ").join(
        [sql.SQL("s.{}").format(sql.Identifier(c)) for c in columns]
        + ([sql.SQL("s._payload")] if with_raw else [])
    )
    updates = sql.SQL(", ").join(
        [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in target_cols if c != "id"]
        + [sql.SQL("{} = now()").format(sql.Identifier(touched))]
    )
    return sql.SQL(query("land_chunk")).format(
        table=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, target_cols)),
        staged=staged,
        updates=updates,
        version=sql.Identifier(version),
    )
