"""Reference tables that are not partitioned: the stage lookup and the sales reps."""

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)
from psycopg2.extras import execute_values

from gcc_pipeline.assets.conventions import table_spec
from gcc_pipeline.checks import checks_on, evaluate
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.jobnimbus.records import text
from gcc_pipeline.markdown import md_table
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.stage_mapping import LookupRow, load_mapping, lookup_rows
from gcc_pipeline.warehouse.copy import copy_rows
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

# Both read one small API answer and rewrite their table whole or by upsert: safe to retry.
RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)
LOOKUP_CHECKS = checks_on(["workflow_status_lookup"])
REPS_CHECKS = checks_on(["sales_reps"])


@multi_asset(
    name="workflow_status_lookup",
    specs=[
        table_spec(
            "workflow_status_lookup",
            group="normalized",
            layer="reference",
        )
    ],
    check_specs=[c.spec() for c in LOOKUP_CHECKS],
    can_subset=True,  # its check can run alone
    retry_policy=RETRY,
)
def workflow_status_lookup(
    context: AssetExecutionContext,
    jobnimbus: JobNimbusResource,
    warehouse: WarehouseResource,
    account: AccountResource,
) -> Iterator[Any]:
    """Stage of every (record type, status name), from gcc_pipeline/stage_mappings.yaml enriched
    with the status ids of account/settings. A rebuild that changes it restages jobs and history."""
    changed = None  # its check executed alone: evaluated
    if context.selected_asset_keys:
        result = _rebuild_lookup(context, jobnimbus, warehouse)
        changed = {"workflow_status_lookup"} if result.metadata["mapping_changed"] else set()
        yield result
    with warehouse.connection() as conn:
        yield from evaluate(context, conn, LOOKUP_CHECKS, freshness_hours=account.freshness_hours,
                            changed=changed)  # fmt: skip


def _rebuild_lookup(
    context: AssetExecutionContext, jobnimbus: JobNimbusResource, warehouse: WarehouseResource
) -> MaterializeResult:
    mapping = load_mapping()
    with jobnimbus.get_client() as client:
        settings = client.settings()
    rows = lookup_rows(mapping, settings)
    fingerprint = hashlib.sha256(
        json.dumps(sorted(json.dumps(r.as_tuple()) for r in rows)).encode()
    ).hexdigest()
    unmapped = [r for r in rows if r.stage is None]
    with warehouse.connection() as conn:
        conn.autocommit = True  # the usual answer is one read: no BEGIN and COMMIT around it
        with conn.cursor() as cur:
            cur.execute(query("fingerprint_read"), {"name": "workflow_status_lookup"})
            found = cur.fetchone()
        conn.autocommit = False
        if found and found[0] == fingerprint:
            context.log.info(f"lookup: unchanged ({len(rows)} statuses, {len(unmapped)} without "
                             "a stage; same mapping file and account/settings)")  # fmt: skip
            return _lookup_result(rows, unmapped, changed=False, restaged=0)
        return _replace_lookup(context, conn, rows, unmapped, fingerprint)


def _replace_lookup(
    context: AssetExecutionContext,
    conn: Any,
    rows: list[LookupRow],
    unmapped: list[LookupRow],
    fingerprint: str,
) -> MaterializeResult:
    """The new lookup in one transaction, restaging jobs and history when it changed."""
    with conn, conn.cursor() as cur:
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
            cur.execute(query("apply_stages"), {"ids": None})
            restaged = cur.rowcount
            cur.execute(query("history_scope"), {"rebuild": True, "changes_since": None,
                                                 "jobs_since": None})  # fmt: skip
            cur.execute(query("history_stages"), {"all": True})
            cur.execute(query("derive_job_dates"), {"all": True})
            cur.execute(
                query("mark_changed"),
                {"tables": ["workflow_status_lookup", "jobs", "job_status_history"],
                 "run_id": context.run.run_id},
            )  # fmt: skip
        cur.execute(
            query("fingerprint_write"),
            {"name": "workflow_status_lookup", "fingerprint": fingerprint,
             "run_id": context.run.run_id},
        )  # fmt: skip
    context.log.info(f"lookup: {len(rows)} statuses, {len(unmapped)} without a stage")
    return _lookup_result(rows, unmapped, changed=changed, restaged=restaged)


def _lookup_result(
    rows: list[LookupRow], unmapped: list[LookupRow], *, changed: bool, restaged: int
) -> MaterializeResult:
    metadata = {
        "dagster/row_count": len(rows),
        "record_types": len({r.record_type_id for r in rows}),
        "statuses_without_stage": len(unmapped),
        "mapping_changed": changed,
        "jobs_restaged": restaged,
    }
    if unmapped:
        metadata["api_statuses_missing_from_mapping"] = MetadataValue.md(
            md_table(
                ["record type", "workflow", "status"],
                [(r.record_type_name, r.workflow, r.status_name) for r in unmapped],
            )
        )
    return MaterializeResult(asset_key="workflow_status_lookup", metadata=metadata)


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


@multi_asset(
    name="sales_reps",
    specs=[
        table_spec(
            "sales_reps",
            group="normalized",
            layer="reference",
            # raw events (the raw jobs), not `jobs`: see job_status_history.
            deps=["contacts", "jobnimbus_raw_events", "payments"],
        )
    ],
    check_specs=[c.spec() for c in REPS_CHECKS],
    can_subset=True,
    retry_policy=RETRY,
)
def sales_reps(
    context: AssetExecutionContext,
    jobnimbus: JobNimbusResource,
    warehouse: WarehouseResource,
    account: AccountResource,
) -> Iterator[Any]:
    """Sales reps from account/users plus every rep seen on a record (kept even when the account
    no longer lists them, so historical numbers still have a name)."""
    changed = None  # its check executed alone: evaluated
    if context.selected_asset_keys:
        result = _load_reps(jobnimbus, warehouse, context.run.run_id)
        moved = result.metadata["changed_from_users"] or result.metadata["changed_from_records"]
        changed = {"sales_reps"} if moved else set()
        yield result
    with warehouse.connection() as conn:
        yield from evaluate(context, conn, REPS_CHECKS, freshness_hours=account.freshness_hours,
                            changed=changed)  # fmt: skip


def _load_reps(
    jobnimbus: JobNimbusResource, warehouse: WarehouseResource, run_id: str
) -> MaterializeResult:
    with jobnimbus.get_client() as client:
        users = [u for u in client.users() if u.get("id") or u.get("jnid")]
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        if users:
            execute_values(cur, query("sales_reps_from_users"), [_user_row(u) for u in users])
        from_users = cur.rowcount if users else 0
        cur.execute(query("sales_reps_from_records"))
        from_records = cur.rowcount
        if from_users or from_records:
            cur.execute(query("mark_changed"), {"tables": ["sales_reps"], "run_id": run_id})
        cur.execute(query("sales_reps_read"), {"run_id": run_id})
        total, records_only = cur.fetchone()
    return MaterializeResult(
        asset_key="sales_reps",
        metadata={
            "users_listed": len(users),
            "changed_from_users": from_users,
            "changed_from_records": from_records,
            "reps_only_seen_on_records": records_only,
            "dagster/row_count": total,
        },
    )
