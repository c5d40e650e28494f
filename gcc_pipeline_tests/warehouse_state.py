"""Checksums of warehouse tables without load timestamps: equal content, equal checksum."""

from typing import Any

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
