"""Reference tables that are not partitioned: the stage lookup and the sales reps."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset
from psycopg2.extras import execute_values

from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.jobnimbus.records import text
from gcc_pipeline.stage_mapping import LookupRow, load_mapping, lookup_rows
from gcc_pipeline.warehouse.copy import copy_rows
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

KINDS = {"python", "postgres"}


@asset(
    group_name="normalized",
    kinds=KINDS,
    pool="jobnimbus_api",
    metadata={"dagster/table_name": "workflow_status_lookup"},
)
def workflow_status_lookup(
    context: AssetExecutionContext, jobnimbus: JobNimbusResource, warehouse: WarehouseResource
) -> MaterializeResult:
    """Stage of every (record type, status name), from gcc_pipeline/stage_mappings.yaml enriched
    with the status ids of account/settings. A rebuild that changes it restages jobs and history."""
    mapping = load_mapping()
    with jobnimbus.get_client() as client:
        settings = client.settings()
    rows = lookup_rows(mapping, settings)
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        cur.execute(query("jobs_write_lock"))
        cur.execute(query("staging"))
        copy_rows(cur, "stage_lookup", LookupRow.COLUMNS, (r.as_tuple() for r in rows))
        cur.execute(query("lookup_checksum"))
        before = cur.fetchone()[0]
        cur.execute(query("replace_lookup"))
        cur.execute(query("lookup_checksum"))
        changed = cur.fetchone()[0] != before
        restaged = 0
        # Restaging is a pass over every job and history row: only when the mapping changed.
        # New rows get their stage where they land (apply_stages, history_stages).
        if changed:
            cur.execute(query("apply_stages"), {"job_ids": None})
            restaged = cur.rowcount
            cur.execute(query("history_stages"), {"all": True})
            cur.execute(query("derive_job_dates"), {"all": True, "start": None, "end": None})
    unmapped = [r for r in rows if r.stage is None]
    metadata = {
        "dagster/row_count": len(rows),
        "record_types": len({r.record_type_id for r in rows}),
        "statuses_without_stage": len(unmapped),
        "mapping_changed": changed,
        "jobs_restaged": restaged,
    }
    if unmapped:
        metadata["api_statuses_missing_from_mapping"] = MetadataValue.md(
            "| record type | workflow | status |\n|---|---|---|\n"
            + "\n".join(
                f"| {r.record_type_name} | {r.workflow} | {r.status_name} |" for r in unmapped
            )
        )
    context.log.info(f"lookup: {len(rows)} statuses, {len(unmapped)} without a stage")
    return MaterializeResult(metadata=metadata)


def _user_row(user: dict) -> tuple:
    first, last = text(user.get("first_name")), text(user.get("last_name"))
    name = text(user.get("name")) or " ".join(p for p in (first, last) if p) or None
    active = user.get("is_active")
    return (
        str(user.get("id") or user.get("jnid")),
        name,
        first,
        last,
        text(user.get("email")),
        text(user.get("phone")),
        active if isinstance(active, bool) else None,
        "account/users",
    )


@asset(
    group_name="normalized",
    kinds=KINDS,
    deps=["contacts", "raw_jobs", "payments"],  # raw_jobs: see job_status_history
    pool="jobnimbus_api",
    metadata={"dagster/table_name": "sales_reps"},
)
def sales_reps(
    context: AssetExecutionContext, jobnimbus: JobNimbusResource, warehouse: WarehouseResource
) -> MaterializeResult:
    """Sales reps from account/users plus every rep seen on a record (kept even when the account
    no longer lists them, so historical numbers still have a name)."""
    with jobnimbus.get_client() as client:
        users = [u for u in client.users() if u.get("id") or u.get("jnid")]
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        if users:
            execute_values(cur, query("sales_reps_from_users"), [_user_row(u) for u in users])
        from_users = cur.rowcount if users else 0
        cur.execute(query("sales_reps_from_records"))
        from_records = cur.rowcount
        cur.execute("SELECT count(*), count(*) FILTER (WHERE source = 'records') FROM sales_reps")
        total, records_only = cur.fetchone()
    return MaterializeResult(
        metadata={
            "users_listed": len(users),
            "changed_from_users": from_users,
            "changed_from_records": from_records,
            "reps_only_seen_on_records": records_only,
            "dagster/row_count": total,
        }
    )
