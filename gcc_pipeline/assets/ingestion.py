"""Raw landing and normalized tables: one step per API resource, raw and table specs together.

Landing and normalizing in one pass means a page is parsed while it is in memory and never read
back; the two specs still give the UI its raw -> normalized lineage.
"""

from collections.abc import Iterator
from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from gcc_pipeline.assets.windows import IngestConfig, fetch_window, partition_label
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.partitions import backfill_policy, daily_partitions
from gcc_pipeline.warehouse.landing import TARGETS, Lander, LandingStats
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

KINDS = {"python", "postgres"}


def raw_spec(resource: str) -> AssetSpec:
    return AssetSpec(
        key=f"raw_{resource}",
        group_name="raw",
        kinds=KINDS,
        description=(
            f"Every JobNimbus {resource} payload fetched, unmodified, in jobnimbus_raw_events "
            f"(entity_type '{TARGETS[resource].entity_type}'); the same payload is stored once."
        ),
        metadata={"dagster/table_name": "jobnimbus_raw_events"},
    )


def table_spec(table: str, deps: list[str], description: str) -> AssetSpec:
    return AssetSpec(
        key=table,
        group_name="normalized",
        kinds=KINDS,
        deps=deps,
        description=description,
        metadata={"dagster/table_name": table},
    )


def _table_rows(conn, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")  # table names are constants of this module
        return cur.fetchone()[0]


def _land_resources(
    context: AssetExecutionContext,
    config: IngestConfig,
    jobnimbus: JobNimbusResource,
    warehouse: WarehouseResource,
    resources: list[str],
) -> tuple[dict[str, LandingStats], dict[str, dict[str, int]], int | None]:
    start, end = fetch_window(context, config)
    label = partition_label(context)
    results: dict[str, LandingStats] = {}
    table = TARGETS[resources[0]].table
    with jobnimbus.get_client() as client, warehouse.connection() as conn:
        for resource in resources:
            # Another run landing this resource finishes first (see ingest_lock.sql). On an
            # error the lock goes with the connection, which closes when the step fails.
            asked = datetime.now(UTC)
            with conn, conn.cursor() as cur:
                cur.execute(query("ingest_lock"), {"resource": resource})
            started = datetime.now(UTC)
            if (started - asked).total_seconds() > 1:
                context.log.info(f"{resource}: waited {started - asked} for another run to land it")
            lander = Lander(conn, resource, run_id=context.run.run_id, partition_key=label)
            stats = lander.land(client.iter_window(resource, start, end))
            api = client.stats.get(resource, {})
            with conn, conn.cursor() as cur:
                cur.execute(
                    query("log_ingestion"),
                    {"run_id": context.run.run_id, "partition_key": label, "resource": resource,
                     "window_start": start, "window_end": end,
                     "requests": api.get("requests", 0), "retries": api.get("retries", 0),
                     "max_date_updated": stats.max_date_updated, "started_at": started,
                     **stats.as_metadata()},
                )  # fmt: skip
            with conn, conn.cursor() as cur:
                cur.execute(query("ingest_unlock"), {"resource": resource})
            context.log.info(
                f"{resource}: {stats.fetched} fetched in {api.get('requests', 0)} requests "
                f"for [{start.isoformat()}, {end.isoformat()}); {stats.as_metadata()}"
            )
            results[resource] = stats
        rows = _table_rows(conn, table) if table else None
        return results, client.stats, rows


def _results(
    context: AssetExecutionContext,
    config: IngestConfig,
    stats: dict[str, LandingStats],
    api: dict[str, dict[str, int]],
    table: str | None,
    table_rows: int | None,
) -> Iterator[MaterializeResult]:
    start, end = fetch_window(context, config)
    window = f"[{start.isoformat()}, {end.isoformat()})"
    for resource, s in stats.items():
        yield MaterializeResult(
            asset_key=AssetKey(f"raw_{resource}"),
            metadata={
                "window": window,
                "fetched": s.fetched,
                "raw_inserted": s.raw_inserted,
                "requests": api.get(resource, {}).get("requests", 0),
                "retries": api.get(resource, {}).get("retries", 0),
            },
        )
    if table:
        total = LandingStats()
        reasons: dict[str, int] = {}
        for s in stats.values():
            for name, value in s.as_metadata().items():
                setattr(total, name, getattr(total, name) + value)
            for reason, n in s.reasons.items():
                reasons[reason] = reasons.get(reason, 0) + n
        metadata = {"window": window, **total.as_metadata(), "dagster/row_count": table_rows}
        if reasons:
            metadata["quarantine_reasons"] = MetadataValue.md(
                "| reason | records |\n|---|---|\n"
                + "\n".join(f"| {r} | {n} |" for r, n in sorted(reasons.items()))
            )
        yield MaterializeResult(asset_key=AssetKey(table), metadata=metadata)


def ingestion_asset(name: str, resources: list[str], table_spec_: AssetSpec | None):
    """One step that lands the given resources raw and upserts their normalized table."""
    specs = [raw_spec(r) for r in resources] + ([table_spec_] if table_spec_ else [])
    table = table_spec_.key.path[-1] if table_spec_ else None

    @multi_asset(
        name=name,
        specs=specs,
        partitions_def=daily_partitions,
        backfill_policy=backfill_policy,
        pool="jobnimbus_api",
        can_subset=False,
    )
    def _ingest(
        context: AssetExecutionContext,
        config: IngestConfig,
        jobnimbus: JobNimbusResource,
        warehouse: WarehouseResource,
    ) -> Iterator[MaterializeResult]:
        stats, api, rows = _land_resources(context, config, jobnimbus, warehouse, resources)
        yield from _results(context, config, stats, api, table, rows)

    return _ingest


ingest_contacts = ingestion_asset(
    "ingest_contacts",
    ["contacts"],
    table_spec("contacts", ["raw_contacts"], "Customers and other contacts, one row per jnid."),
)
ingest_jobs = ingestion_asset(
    "ingest_jobs",
    ["jobs"],
    table_spec(
        "jobs",
        ["raw_jobs", "workflow_status_lookup"],
        "Jobs with stage from workflow_status_lookup (by record type and status name) and flags "
        "that follow the stage; date_sold/date_completed come from job_status_history.",
    ),
)
ingest_payments = ingestion_asset(
    "ingest_payments",
    ["payments"],
    table_spec(
        "payments",
        ["raw_payments"],
        "Payments: job from related[type=job] (primary may be an invoice); net = total - credit",
    ),
)
ingest_expenses = ingestion_asset(
    "ingest_expenses",
    ["workorders", "materialorders"],
    table_spec(
        "expenses",
        ["raw_workorders", "raw_materialorders"],
        "Job costs: one row per work order (labor, or subcontractor) and per material order "
        "(materials, vendor = supplier); amount = total_line_item_cost.",
    ),
)
ingest_activities = ingestion_asset(
    "ingest_activities",
    ["activities"],
    table_spec(
        "jobnimbus_status_changes",
        ["raw_activities"],
        "Status-change activities parsed once at landing (job, previous and new status, when); "
        "job_status_history is built from them.",
    ),
)

INGESTION_ASSETS = [
    ingest_contacts,
    ingest_jobs,
    ingest_payments,
    ingest_expenses,
    ingest_activities,
]
