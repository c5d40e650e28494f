"""Analytics: one asset per materialized view of schema `analytics`, each defined by its file
sql/views/NNN_<name>.sql (applied by warehouse/migrate.py; the numbering puts dependencies first).

The views are specs of one subsettable multi-asset: refreshing several is one step, in waves of
views that do not read each other (file order puts dependencies first), two at a time.
Materializing a view refreshes it CONCURRENTLY, so dashboards keep reading the previous rows until
the new ones are committed; automation refreshes a view when what it reads changes, unless one of
their blocking checks failed. A view's code_version is the hash of its file, so the UI marks a
view whose definition changed. The revenue reconciliation check runs in the same step.
"""

import hashlib
import queue
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from psycopg2 import sql

from gcc_pipeline.assets.conventions import table_spec
from gcc_pipeline.checks import checks_on, evaluate
from gcc_pipeline.markdown import md_table
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.warehouse.migrate import view_files, view_name
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

PREVIEW_ROWS = 10
REFRESH_CONNECTIONS = 2  # views of one wave refreshed at once (PostgreSQL does the work)


@dataclass(frozen=True)
class AnalyticsView:
    """A view of schema `analytics`: what it reads (its asset deps: tables and other views) and
    how its preview is ordered. Its definition is its file under sql/views/."""

    name: str
    deps: tuple[str, ...]
    order_by: str
    # Shown in the UI only while gcc_pipeline/catalog.json lacks the view: the view's COMMENT
    # (in its sql/views file) is its description.
    description: str = ""

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
    ),
    AnalyticsView(
        "revenue_daily",
        ("revenue_payments",),
        "day DESC, revenue DESC",
    ),
    AnalyticsView(
        "revenue_by_month",
        ("revenue_payments",),
        "month DESC, revenue DESC",
    ),
    AnalyticsView(
        "jobs_current",
        ("jobs", "job_status_history", "revenue_payments", "expenses", "sales_reps", "contacts"),
        "stage_order NULLS LAST, stage_entered_at",
    ),
    AnalyticsView(
        "pipeline_by_stage",
        ("jobs_current",),
        "stage_order NULLS LAST, job_count DESC",
    ),
    AnalyticsView(
        "stage_velocity",
        ("jobs_current", "job_status_history"),
        "record_type_name, from_stage_order, to_stage_order",
    ),
    AnalyticsView(
        "stage_conversion",
        ("jobs_current", "job_status_history"),
        "record_type_name, is_legacy, stage_order",
    ),
    AnalyticsView(
        "rep_monthly",
        ("revenue_payments", "jobs_current", "sales_reps"),
        "month DESC, revenue DESC, sales_rep_id",
    ),
    AnalyticsView(
        "rep_performance",
        ("revenue_payments", "jobs_current", "sales_reps"),
        "revenue DESC, sales_rep_id",
    ),
    AnalyticsView(
        "lead_source_performance",
        ("contacts", "jobs_current", "revenue_payments"),
        "leads DESC, lead_source",
    ),
    AnalyticsView(
        "job_type_monthly",
        ("revenue_by_month", "jobs_current", "expenses", "jobs"),
        "month DESC, revenue DESC",
    ),
    AnalyticsView(
        "job_profitability",
        ("jobs_current",),
        "gross_profit DESC, job_id",
    ),
    AnalyticsView(
        "cash_flow_by_month",
        ("revenue_by_month", "expenses", "jobs"),
        "month DESC",
    ),
    AnalyticsView(
        "invoice_balances",
        ("invoices", "jobs", "contacts", "sales_reps"),
        "due_day, invoice_id",
        "One row per invoice that counts (active, not archived, not void or draft, not a test "
        "record), paid ones included: overdue invoices and pending payments by age.",
    ),
    AnalyticsView(
        "open_invoices_by_day",
        ("invoice_balances",),
        "invoice_day DESC",
        "Open invoice balances per invoice day: pending payments by age for any today.",
    ),
    AnalyticsView(
        "job_receivables",
        ("invoice_balances", "jobs_current"),
        "receivable DESC, job_id",
        "Per live job with something owed: outstanding receivable from its invoices beside the "
        "job roll-up (approved_invoice_total - revenue) and their difference.",
    ),
    AnalyticsView(
        "estimate_funnel",
        ("estimates", "jobs", "contacts", "sales_reps"),
        "sent_month DESC, sent DESC",
        "Estimate funnel per month sent, rep and job type, one unit per job: sent, approved, "
        "declined, open, their values and days to approval.",
    ),
    AnalyticsView(
        "open_tasks",
        ("tasks", "jobs", "contacts", "sales_reps"),
        "tasks DESC, assignee_id",
        "Open tasks per assignee and due day (end, else start): open and overdue per assignee.",
    ),
    AnalyticsView(
        "jobs_missing_fields",
        ("jobs",),
        "missing_count DESC, job_id",
        "Live jobs missing a required field: sales rep, own source, primary contact, address.",
    ),
)

AUTOMATION = AutomationCondition.eager() & AutomationCondition.all_deps_blocking_checks_passed()


def _refresh(cur: Any, name: str) -> float:
    started = time.perf_counter()
    cur.execute(
        sql.SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.{}").format(sql.Identifier(name))
    )
    return time.perf_counter() - started


def _describe(cur: Any, view: AnalyticsView) -> tuple[int, str]:
    """Row count and a markdown preview of the first rows."""
    name = sql.Identifier(view.name)
    cur.execute(sql.SQL("SELECT count(*) FROM analytics.{}").format(name))
    (rows,) = cur.fetchone()
    cur.execute(
        sql.SQL("SELECT * FROM analytics.{} ORDER BY {} LIMIT %s").format(
            name,
            sql.SQL(view.order_by),  # a constant of VIEWS
        ),
        (PREVIEW_ROWS,),
    )
    return rows, md_table([d.name for d in cur.description], cur.fetchall())


def waves(views: Sequence[AnalyticsView]) -> list[list[AnalyticsView]]:
    """`views` in waves: each wave reads only tables and views of earlier waves, so the views
    of one wave can refresh at the same time (file order already puts dependencies first)."""
    depth: dict[str, int] = {}
    for view in VIEWS:
        depth[view.name] = 1 + max((depth[d] for d in view.deps if d in depth), default=-1)
    by_depth: dict[int, list[AnalyticsView]] = {}
    for view in views:
        by_depth.setdefault(depth[view.name], []).append(view)
    return [by_depth[d] for d in sorted(by_depth)]


def _refresh_all(conn: Any, connect: Callable[[], Any], views: Sequence[AnalyticsView]) -> dict:
    """Refresh `views` wave by wave, on `conn` and up to REFRESH_CONNECTIONS - 1 more; returns
    the seconds each took."""
    spare: queue.SimpleQueue = queue.SimpleQueue()
    spare.put(conn)
    opened = []
    try:
        for _ in range(REFRESH_CONNECTIONS - 1):
            extra = connect()
            extra.autocommit = True
            opened.append(extra)
            spare.put(extra)

        def refresh(view: AnalyticsView) -> float:
            c = spare.get()
            try:
                with c.cursor() as cur:
                    return _refresh(cur, view.name)
            finally:
                spare.put(c)

        seconds: dict[str, float] = {}
        with ThreadPoolExecutor(REFRESH_CONNECTIONS, thread_name_prefix="gcc-refresh") as pool:
            for wave in waves(views):
                seconds.update(zip([v.name for v in wave], pool.map(refresh, wave), strict=True))
        return seconds
    finally:
        for extra in opened:
            extra.close()


def analyze_stale_inputs(conn: Any) -> list[str]:
    """ANALYZE the tables the views read whose statistics a load outdated, so the refresh is
    planned on what the tables now hold, not on what they held before a bulk load."""
    views = {v.name for v in VIEWS}
    tables = sorted({d for v in VIEWS for d in v.deps} - views)
    with conn.cursor() as cur:
        cur.execute(query("stale_statistics"), {"tables": tables})
        stale = [name for (name,) in cur.fetchall()]
        if stale:  # one statement for all of them: a round trip, not one per table
            cur.execute(sql.SQL("ANALYZE {}").format(
                sql.SQL(", ").join(sql.Identifier(name) for name in stale)))  # fmt: skip
    return stale


@dataclass(frozen=True)
class Changes:
    """When each table last changed and each view was last refreshed (from which file)."""

    tables: dict[str, Any]
    views: dict[str, tuple[Any, str]]
    read_at: Any  # every change made before this moment is known here

    def stale(self, chosen: Sequence[AnalyticsView]) -> list[AnalyticsView]:
        """The chosen views something they read changed in since their last refresh (or whose
        file changed, or never refreshed), including through the views they read."""
        stale: set[str] = set()
        for view in VIEWS:  # file order: a view comes after what it reads
            refreshed, version = self.views.get(view.name, (None, ""))
            if (
                refreshed is None
                or version != view.code_version
                or any(d in stale for d in view.deps)
                or any(self.tables.get(d) and self.tables[d] >= refreshed for d in view.deps)
            ):
                stale.add(view.name)
        return [v for v in chosen if v.name in stale]


def read_changes(conn: Any) -> Changes:
    from gcc_pipeline.streams import STREAMS

    with conn.cursor() as cur:
        cur.execute(query("analytics_changes"), {"streams": [s.name for s in STREAMS]})
        rows = cur.fetchall()
    tables = {name: at for kind, name, at, _, _ in rows if kind == "table"}
    views = {name: (at, version) for kind, name, at, version, _ in rows if kind == "view"}
    return Changes(tables, views, next(read for kind, *_, read in rows if kind == "now"))


def refresh_views(
    context: AssetExecutionContext,
    conn: Any,
    connect: Callable[[], Any],
    timezone: str,
    selected: set[AssetKey],
) -> Iterator[MaterializeResult]:
    """Store the account time zone, then refresh the selected views whose inputs changed since
    their last refresh, concurrently (readers never wait for it), independent ones at the same
    time; a view nothing changed under is left alone and records nothing. When the zone changed
    every view is refreshed, so no dashboard mixes two zones."""
    conn.autocommit = True  # REFRESH ... CONCURRENTLY cannot run in a transaction block
    with conn.cursor() as cur:
        cur.execute(query("analytics_set_timezone"), {"timezone": timezone})
        tz_changed = cur.fetchone() is not None
    if tz_changed:
        context.log.info(f"account time zone is now {timezone}; refreshing every view")
    changes = read_changes(conn)
    selected_views = [v for v in VIEWS if AssetKey(v.name) in selected]
    chosen = selected_views if tz_changed else changes.stale(selected_views)
    if len(chosen) < len(selected_views):
        context.log.info(
            f"{len(selected_views) - len(chosen)} view(s) unchanged: nothing they read changed "
            "since their last refresh"
        )
    if not chosen:
        return
    if analyzed := analyze_stale_inputs(conn):
        context.log.info(f"statistics refreshed before the views: {', '.join(analyzed)}")
    seconds = _refresh_all(conn, connect, VIEWS if tz_changed else chosen)
    with conn.cursor() as cur:
        refreshed = VIEWS if tz_changed else chosen
        cur.execute(
            query("view_refreshed"),
            {"views": [v.name for v in refreshed], "code_versions": [v.code_version for v in
             refreshed], "read_at": changes.read_at, "run_id": context.run.run_id},
        )  # fmt: skip
        lines = []
        for view in chosen:
            rows, preview = _describe(cur, view)
            lines.append(f"analytics.{view.name}: {rows} rows in {seconds[view.name]:.3f}s")
            yield MaterializeResult(
                asset_key=view.name,
                metadata={
                    "dagster/row_count": rows,
                    "refresh_seconds": round(seconds[view.name], 4),
                    "preview": MetadataValue.md(preview),
                    "timezone": timezone,
                    "timezone_changed": tz_changed,
                    "definition": MetadataValue.path(
                        str(view.path.relative_to(view.path.parents[2]))
                    ),
                },
            )
    context.log.info(f"refreshed {len(chosen)} view(s)\n" + "\n".join(lines))


CHECKS = checks_on(v.name for v in VIEWS)


@multi_asset(
    name="analytics",
    specs=[
        table_spec(
            v.name,
            group="analytics",
            layer="analytics",
            schema="analytics",
            deps=list(v.deps),
            description=v.description,
            automation_condition=AUTOMATION,
            code_version=v.code_version,
            kinds={"postgres"},
        )
        for v in VIEWS
    ],
    check_specs=[c.spec() for c in CHECKS],
    can_subset=True,
)
def analytics(
    context: AssetExecutionContext, warehouse: WarehouseResource, account: AccountResource
) -> Iterator[Any]:
    refreshed: set[str] = set()
    with warehouse.connection() as conn:
        for result in refresh_views(
            context, conn, warehouse.connect, account.timezone, set(context.selected_asset_keys)
        ):
            refreshed.add(result.asset_key.to_user_string())
            yield result
        conn.autocommit = False
        # Executed alone (no view selected): every selected check; else those of views refreshed.
        changed = refreshed if context.selected_asset_keys else None
        yield from evaluate(
            context, conn, CHECKS, freshness_hours=account.freshness_hours, changed=changed
        )


ANALYTICS_ASSETS: list[AssetsDefinition] = [analytics]
