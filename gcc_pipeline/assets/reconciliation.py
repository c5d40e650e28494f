"""Weekly reconciliation: compare ids and date_updated with the API, since date filters may miss.

Anything the API has newer than the warehouse is reloaded through the same landing path as a
partition run; anything the warehouse has that the API no longer lists is marked inactive.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset
from psycopg2 import sql

from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.jobnimbus.records import MAX_ID_LENGTH
from gcc_pipeline.settings import load_settings
from gcc_pipeline.warehouse.copy import copy_rows
from gcc_pipeline.warehouse.landing import TARGETS, Lander
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

RECONCILED = ("contacts", "jobs", "payments", "workorders", "materialorders")
# Marking more than this share of a table inactive in one go means the API answered wrongly
# (a key lost its permissions, say), not that the company deleted its CRM.
MAX_GONE_SHARE = 0.5


def _compose(name: str, resource: str) -> sql.Composed:
    target = TARGETS[resource]
    source = (
        sql.SQL("AND t.source_entity = {}").format(sql.Literal(target.entity_type))
        if target.table == "expenses"
        else sql.SQL("")
    )
    return sql.SQL(query(name)).format(
        table=sql.Identifier(target.table),
        version=sql.Identifier(target.version),
        touched=sql.Identifier(target.touched),
        source_filter=source,
    )


@asset(
    group_name="normalized",
    kinds={"python", "postgres"},
    deps=["contacts", "jobs", "payments", "expenses"],
    pool="jobnimbus_api",
)
def reconciliation(
    context: AssetExecutionContext, jobnimbus: JobNimbusResource, warehouse: WarehouseResource
) -> MaterializeResult:
    """Full id/date_updated comparison with the API: reloads records a filter missed and marks
    records that disappeared (is_active = false). Run weekly by reconciliation_schedule."""
    tz = load_settings().timezone
    zone = ZoneInfo(tz)
    rows = []
    with (
        jobnimbus.get_client() as client,
        warehouse.connection() as conn,
        warehouse.connection() as load_conn,
    ):
        for resource in RECONCILED:
            target = TARGETS[resource]
            with conn, conn.cursor() as cur:
                cur.execute(query("staging"))
                copy_rows(
                    cur,
                    "stage_api_ids",
                    ("id", "date_updated"),
                    (
                        (jnid, datetime.fromtimestamp(updated, zone) if updated else None)
                        for jnid, updated in client.list_ids(resource)
                        if len(jnid) <= MAX_ID_LENGTH  # longer ids live in quarantine
                    ),
                )
                cur.execute("SELECT count(*) FROM stage_api_ids")
                api_count = cur.fetchone()[0]
                cur.execute(_compose("reconcile_stale_days", resource),
                            {"tz": tz, "entity_type": target.entity_type})  # fmt: skip
                days = [d for (d,) in cur.fetchall()]
                cur.execute(_compose("reconcile_revive", resource))
                revived = cur.rowcount
                cur.execute(_compose("reconcile_local_count", resource))
                local_active = cur.fetchone()[0]
                cur.execute(_compose("reconcile_mark_gone", resource))
                gone = cur.rowcount
                if local_active and gone > MAX_GONE_SHARE * local_active:
                    conn.rollback()
                    raise RuntimeError(
                        f"reconciliation of {resource}: the API lists {api_count} records and "
                        f"{gone} of {local_active} active rows would be marked gone; refusing"
                    )
            lander = Lander(
                load_conn, resource, run_id=context.run.run_id, partition_key="reconcile"
            )
            for day in days:
                start = datetime.combine(day, time(), zone)
                end = datetime.combine(day + timedelta(days=1), time(), zone)
                lander.land(client.iter_window(resource, start, end))
            stats = lander.stats
            rows.append(
                (resource, api_count, len(days), stats.inserted, stats.updated, gone, revived)
            )
            context.log.info(
                f"{resource}: {api_count} listed, {len(days)} stale days reloaded, {gone} gone, "
                f"{revived} listed again"
            )
    table = (
        "| resource | listed by API | stale days | inserted | updated | marked gone | back |\n"
        + "|---|---|---|---|---|---|---|\n"
    )
    table += "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in rows)
    return MaterializeResult(
        metadata={
            "summary": MetadataValue.md(table),
            "reloaded": sum(r[3] + r[4] for r in rows),
            "marked_gone": sum(r[5] for r in rows),
            "listed_again": sum(r[6] for r in rows),
            "requests": sum(s.get("requests", 0) for s in client.stats.values()),
        }
    )
