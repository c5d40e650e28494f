"""The warehouse as tests read it: table checksums without load timestamps (equal content, equal
checksum) and rows as dicts."""

from typing import Any

import psycopg2

# table -> (order key, columns that record when we loaded, not what was loaded)
TABLES = {
    "contacts": ("id", ("loaded_at",)),
    "jobs": ("id", ("updated_at",)),
    "payments": ("id", ("updated_at",)),
    "expenses": ("id", ("updated_at",)),
    "sales_reps": ("id", ("loaded_at",)),
    "workflow_status_lookup": ("record_type_id, status_key", ()),
    "job_status_history": ("job_id, changed_at, status_name", ("id", "recorded_at")),
}


def table_checksums(conn: Any) -> dict[str, tuple[int, str]]:
    out = {}
    with conn.cursor() as cur:
        for table, (order, volatile) in TABLES.items():
            drop = "".join(f" - '{c}'" for c in volatile)
            cur.execute(
                f"SELECT count(*), coalesce(md5(string_agg((to_jsonb(t){drop})::text, '|' "
                f"ORDER BY {order})), '') FROM {table} t"
            )
            out[table] = tuple(cur.fetchone())
    return out


def select_rows(url: str, statement: str, params: dict | tuple = ()) -> list[dict[str, Any]]:
    """A statement's rows as dicts by column name, on a connection of its own."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()
