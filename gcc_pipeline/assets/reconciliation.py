"""Weekly reconciliation: compare ids and date_updated with the API, since date filters may miss.

Anything the API has newer than the warehouse is reloaded through the same landing path as any
load; anything the warehouse has that the API no longer lists is marked inactive.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from gcc_pipeline.assets.conventions import KINDS, OWNERS, tags
from gcc_pipeline.jobnimbus import JobNimbusClient, JobNimbusResource
from gcc_pipeline.jobnimbus.records import MAX_ID_LENGTH
from gcc_pipeline.markdown import md_table
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.streams import STREAMS, Stream, stream_tables
from gcc_pipeline.warehouse.copy import copy_rows
from gcc_pipeline.warehouse.landing import Lander, LandingStats, create_staging
from gcc_pipeline.warehouse.queries import query, stream_statement
from gcc_pipeline.warehouse.resource import WarehouseResource

RECONCILED: tuple[Stream, ...] = tuple(s for s in STREAMS if s.reconciled)
# Marking more than this share of a table inactive in one go means the API answered wrongly
# (a key lost its permissions, say), not that the company deleted its CRM.
MAX_GONE_SHARE = 0.5


@dataclass(frozen=True)
class Comparison:
    listed: int  # ids the API lists
    stale_days: list  # days (account time zone) holding records missing here or older here
    revived: int  # marked gone before, listed again
    gone: int  # no longer listed: marked inactive


def _compare(conn: Any, client: JobNimbusClient, stream: Stream, tz: str) -> Comparison:
    """One transaction: the API's ids staged, then stale days found, revivals and gone marked."""
    zone = ZoneInfo(tz)
    with conn, conn.cursor() as cur:
        copy_rows(
            cur,
            "stage_api_ids",
            ("id", "date_updated"),
            (
                (jnid, datetime.fromtimestamp(updated, zone) if updated else None)
                for jnid, updated in client.list_ids(stream)
                if len(jnid) <= MAX_ID_LENGTH  # longer ids live in quarantine
            ),
        )
        cur.execute("SELECT count(*) FROM stage_api_ids")
        (listed,) = cur.fetchone()
        cur.execute(stream_statement("reconcile_stale_days", stream),
                    {"tz": tz, "entity_type": stream.entity_type})  # fmt: skip
        days = [d for (d,) in cur.fetchall()]
        cur.execute(stream_statement("reconcile_revive", stream))
        revived = cur.rowcount
        cur.execute(stream_statement("reconcile_local_count", stream))
        (local_active,) = cur.fetchone()
        cur.execute(stream_statement("reconcile_mark_gone", stream))
        gone = cur.rowcount
        if local_active and gone > MAX_GONE_SHARE * local_active:
            conn.rollback()
            raise RuntimeError(
                f"reconciliation of {stream.name}: the API lists {listed} records and {gone} of "
                f"{local_active} active rows would be marked gone; refusing"
            )
    return Comparison(listed, days, revived, gone)


def _reload(lander: Lander, client: JobNimbusClient, days: list, tz: str) -> LandingStats:
    zone = ZoneInfo(tz)
    for day in days:
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        lander.land(client.iter_window(lander.stream, start, end))
    return lander.stats


@asset(
    group_name="normalized",
    kinds=KINDS,
    owners=OWNERS,
    tags=tags("normalized"),
    deps=[t.name for t in stream_tables() if any(s.reconciled for s in STREAMS if s.table == t)],
)
def reconciliation(
    context: AssetExecutionContext,
    jobnimbus: JobNimbusResource,
    warehouse: WarehouseResource,
    account: AccountResource,
) -> MaterializeResult:
    """Full id/date_updated comparison with the API: reloads records a filter missed and marks
    records that disappeared (is_active = false). Run weekly by reconciliation_schedule."""
    rows = []
    with jobnimbus.get_client() as client, warehouse.connection() as conn:
        create_staging(conn)
        for stream in RECONCILED:
            found = _compare(conn, client, stream, account.timezone)
            lander = Lander(conn, stream, run_id=context.run.run_id, partition_key="reconcile")
            stats = _reload(lander, client, found.stale_days, account.timezone)
            rows.append((stream.name, found.listed, len(found.stale_days), stats.inserted,
                         stats.updated, found.gone, found.revived))  # fmt: skip
            context.log.info(
                f"{stream.name}: {found.listed} listed, {len(found.stale_days)} stale days "
                f"reloaded, {found.gone} gone, {found.revived} listed again"
            )
        changed = sorted({s.table.name for s, r in zip(RECONCILED, rows, strict=True)
                          if r[3] or r[4] or r[5] or r[6]})  # fmt: skip
        if changed:
            with conn, conn.cursor() as cur:
                run_id = context.run.run_id
                cur.execute(query("mark_changed"), {"tables": changed, "run_id": run_id})
        requests = sum(s.get("requests", 0) for s in client.stats.values())
    header = ["resource", "listed by API", "stale days", "inserted", "updated", "marked gone",
              "back"]  # fmt: skip
    return MaterializeResult(
        metadata={
            "summary": MetadataValue.md(md_table(header, rows)),
            "reloaded": sum(r[3] + r[4] for r in rows),
            "marked_gone": sum(r[5] for r in rows),
            "listed_again": sum(r[6] for r in rows),
            "requests": requests,
        }
    )
