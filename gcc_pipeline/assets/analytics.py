"""Analytics: one asset per materialized view of schema `analytics`, each defined by its file
sql/views/NNN_<name>.sql (applied by warehouse/migrate.py; the numbering puts dependencies first).
Materializing an asset refreshes its view CONCURRENTLY, so dashboards keep reading the previous
rows until the new ones are committed; automation refreshes a view when what it reads changes,
unless one of their blocking checks failed. An asset's code_version is the hash of its view file,
so the UI marks a view whose definition changed.
"""

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
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
from gcc_pipeline.warehouse.migrate import view_files, view_name
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

PREVIEW_ROWS = 10


@dataclass(frozen=True)
class AnalyticsView:
    """A view of schema `analytics`: what it reads (its asset deps: tables and other views) and
    how its preview is ordered. Its definition is its file under sql/views/."""

    name: str
    deps: tuple[str, ...]
    order_by: str
    description: str

    @cached_property
    def path(self) -> Path:
        (path,) = [p for p in view_files() if view_name(p) == self.name]
        return path

    @property
    def code_version(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


VIEWS: tuple[AnalyticsView, ...] = (
    AnalyticsView(
        "revenue_payments",
        ("payments", "jobs", "contacts"),
        "day DESC, payment_id",
        "One row per payment that counts as revenue (active, not archived, not a test record; "
        "legacy included): revenue = total - credit - refunded, its day and month in the account "
        "time zone, job type, rep (the job's, else the payment's), method and lead source. "
        "Every revenue figure sums it.",
    ),
    AnalyticsView(
        "revenue_daily",
        ("revenue_payments",),
        "day DESC, revenue DESC",
        "Revenue per day, job type (is_legacy) and payment method: the daily trend for any date "
        "range.",
    ),
    AnalyticsView(
        "revenue_by_month",
        ("revenue_payments",),
        "month DESC, revenue DESC",
        "Revenue per month, job type (is_legacy), payment method and lead source: this month, "
        "last month, year to date, month over month and the breakdowns.",
    ),
    AnalyticsView(
        "jobs_current",
        ("jobs", "job_status_history", "revenue_payments", "expenses", "sales_reps", "contacts"),
        "stage_order NULLS LAST, stage_entered_at",
        "One row per live job (legacy included, test records out): stage and when it was "
        "entered, rep, source, outcome dates, pipeline value, revenue, costs, receivable and "
        "days spent per funnel stage.",
    ),
    AnalyticsView(
        "pipeline_by_stage",
        ("jobs_current",),
        "stage_order NULLS LAST, job_count DESC",
        "Live jobs per job type, lead source, creation month and current stage: funnel, "
        "pipeline value, Lead -> Sold conversion and days per stage.",
    ),
    AnalyticsView(
        "stage_velocity",
        ("jobs_current", "job_status_history"),
        "record_type_name, from_stage_order, to_stage_order",
        "Transitions between consecutive stage entries of live jobs (history starts at "
        "creation), with total, average and median days.",
    ),
    AnalyticsView(
        "stage_conversion",
        ("jobs_current", "job_status_history"),
        "record_type_name, is_legacy, stage_order",
        "Funnel per job type: live jobs that reached each funnel stage (or a later one) and how "
        "many went on to a later one (next_stage_rate).",
    ),
    AnalyticsView(
        "rep_monthly",
        ("revenue_payments", "jobs_current", "sales_reps"),
        "month DESC, revenue DESC, sales_rep_id",
        "Rep leaderboard per month: revenue, jobs won and lost, win_rate, average job value, "
        "current pipeline value and the change against the previous month.",
    ),
    AnalyticsView(
        "rep_performance",
        ("revenue_payments", "jobs_current", "sales_reps"),
        "revenue DESC, sales_rep_id",
        "Per rep over all time: leads (jobs), won, lost, win_rate, lead_to_sold_rate, revenue "
        "(adds up to the total with '(unassigned)'), pipeline value, average job value.",
    ),
    AnalyticsView(
        "lead_source_performance",
        ("contacts", "jobs_current", "revenue_payments"),
        "leads DESC, lead_source",
        "Per lead source: leads (contacts created), sold leads, lead_to_sold_rate, jobs won, "
        "revenue, average job value and days to sale.",
    ),
    AnalyticsView(
        "job_type_monthly",
        ("revenue_by_month", "jobs_current", "expenses", "jobs"),
        "month DESC, revenue DESC",
        "Job type analysis per month: revenue, leads, jobs won and lost, win_rate, average job "
        "value, average days to close, costs and gross margin.",
    ),
    AnalyticsView(
        "job_profitability",
        ("jobs_current",),
        "gross_profit DESC, job_id",
        "Per live job: revenue collected, costs (work and submitted material orders), gross "
        "profit and margin.",
    ),
    AnalyticsView(
        "cash_flow_by_month",
        ("revenue_by_month", "expenses", "jobs"),
        "month DESC",
        "Cash in (revenue) and out (costs) per month in the account time zone.",
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
    and describe the result. When the zone changed, every view is refreshed, in file order
    (dependencies first), so no dashboard mixes two zones."""
    timezone = load_settings().timezone
    at = VIEWS.index(view)
    with warehouse.connection() as conn:
        conn.autocommit = True  # REFRESH ... CONCURRENTLY cannot run in a transaction block
        with conn.cursor() as cur:
            cur.execute(query("analytics_set_timezone"), {"timezone": timezone})
            tz_changed = cur.fetchone() is not None
            before = [v.name for v in VIEWS[:at]] if tz_changed else []
            after = [v.name for v in VIEWS[at + 1 :]] if tz_changed else []
            if tz_changed:
                context.log.info(f"account time zone is now {timezone}; refreshing every view")
            for name in before:
                cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{name}")
            started = time.perf_counter()
            cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{view.name}")
            seconds = time.perf_counter() - started
            for name in after:
                cur.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{name}")
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
            "definition": MetadataValue.path(str(view.path.relative_to(view.path.parents[2]))),
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
        code_version=view.code_version,
        metadata={"dagster/table_name": f"analytics.{view.name}"},
    )
    def _refresh(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        return refresh_view(context, warehouse, view)

    return _refresh


ANALYTICS_ASSETS: list[AssetsDefinition] = [analytics_asset(v) for v in VIEWS]
