"""Analytics: one asset per materialized view of schema `analytics` (defined in
sql/005_analytics.sql). Materializing an asset refreshes its view CONCURRENTLY, so dashboards keep
reading the previous rows until the new ones are committed; automation refreshes a view when the
tables it reads change, unless one of their blocking checks failed.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from gcc_pipeline.settings import load_settings
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class AnalyticsView:
    """A view of schema `analytics`: the tables it reads (its asset deps), how the preview is
    ordered, and whether its months depend on the account time zone."""

    name: str
    deps: tuple[str, ...]
    order_by: str
    description: str
    uses_timezone: bool = False


VIEWS: tuple[AnalyticsView, ...] = (
    AnalyticsView(
        "revenue_by_month",
        ("payments", "jobs"),
        "month DESC, revenue DESC",
        "Net payments (active, not archived; test and legacy jobs excluded) per month of "
        "date_payment in the account time zone and job record type ('(unknown job)' when the "
        "payment's job is not known).",
        uses_timezone=True,
    ),
    AnalyticsView(
        "pipeline_by_stage",
        ("jobs",),
        "record_type_name, stage_order NULLS LAST, stage",
        "Live jobs (active, not archived, not test, not legacy) and their approved estimates per "
        "record type and current stage ('(unmapped)' when the status has no stage).",
    ),
    AnalyticsView(
        "stage_velocity",
        ("job_status_history", "jobs"),
        "record_type_name, from_stage_order, to_stage_order",
        "Transitions between consecutive stage entries of live jobs' status history, with the "
        "average and median days between the two entries.",
    ),
    AnalyticsView(
        "stage_conversion",
        ("job_status_history", "jobs"),
        "record_type_name, stage_order",
        "Funnel per record type: live jobs that reached each funnel stage (or a later one) and "
        "how many went on to a later funnel stage.",
    ),
    AnalyticsView(
        "rep_performance",
        ("jobs", "payments", "sales_reps"),
        "revenue DESC, sales_rep_id",
        "Per sales rep: live jobs, won, lost, won/(won+lost), net revenue collected and the open "
        "pipeline (approved estimates of jobs neither won nor lost).",
    ),
    AnalyticsView(
        "lead_source_performance",
        ("jobs", "contacts", "payments"),
        "leads DESC, lead_source",
        "Per lead source (the job's, else its primary contact's): live jobs, won, won/leads, net "
        "revenue and the average days from creation to sale.",
    ),
    AnalyticsView(
        "job_profitability",
        ("jobs", "payments", "expenses"),
        "gross_profit DESC, job_id",
        "Per live job: net revenue collected, expenses (work and material orders), gross profit "
        "and margin.",
    ),
    AnalyticsView(
        "cash_flow_by_month",
        ("payments", "expenses", "jobs"),
        "month DESC",
        "Cash in (net payments) and out (expenses) per month in the account time zone.",
        uses_timezone=True,
    ),
)

AUTOMATION = AutomationCondition.eager() & AutomationCondition.all_deps_blocking_checks_passed()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-style markdown table, as the Dagster UI renders it."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def refresh_view(
    context: AssetExecutionContext, warehouse: WarehouseResource, view: AnalyticsView
) -> MaterializeResult:
    """Store the account time zone, refresh the view concurrently (readers never wait for it)
    and describe the result. When the zone changed, the other month-bucketed views are refreshed
    too, so no dashboard mixes two zones."""
    timezone = load_settings().timezone
    with warehouse.connection() as conn:
        conn.autocommit = True  # REFRESH ... CONCURRENTLY cannot run in a transaction block
        with conn.cursor() as cur:
            cur.execute(query("analytics_set_timezone"), {"timezone": timezone})
            tz_changed = cur.fetchone() is not None
            others = [v.name for v in VIEWS if tz_changed and v.uses_timezone and v != view]
            if tz_changed:
                context.log.info(f"account time zone is now {timezone}; refreshing {others}")
            for name in others:
                cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{name}")
            started = time.perf_counter()
            cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view.name}")
            seconds = time.perf_counter() - started
            cur.execute(f"SELECT count(*) FROM analytics.{view.name}")
            rows = cur.fetchone()[0]
            cur.execute(
                f"SELECT * FROM analytics.{view.name} ORDER BY {view.order_by} LIMIT %s",
                (PREVIEW_ROWS,),
            )
            columns = [d.name for d in cur.description]
            preview = cur.fetchall()
    context.log.info(f"analytics.{view.name}: {rows} rows, refreshed in {seconds:.3f}s")
    return MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "refresh_seconds": round(seconds, 4),
            "preview": MetadataValue.md(markdown_table(columns, preview)),
            "timezone": timezone,
            "timezone_changed": tz_changed,
        }
    )


def analytics_asset(view: AnalyticsView) -> AssetsDefinition:
    """The asset that refreshes one view; its key is the view's name."""

    @asset(
        name=view.name,
        group_name="analytics",
        kinds={"postgres"},
        deps=list(view.deps),
        description=view.description,
        automation_condition=AUTOMATION,
        metadata={"dagster/table_name": f"analytics.{view.name}"},
    )
    def _refresh(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        return refresh_view(context, warehouse, view)

    return _refresh


ANALYTICS_ASSETS: list[AssetsDefinition] = [analytics_asset(v) for v in VIEWS]
