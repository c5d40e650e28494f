"""Asset checks on the warehouse tables: set-based SQL in sql/load/check_*.sql, results with
metadata the UI shows. Newer checks keep their core in a plain function of a cursor (what the
check found), so the same rule can run inside an asset's own step; the @asset_check is a wrapper.

Only stage-mapping completeness blocks (switchable with GCC_BLOCK_ON_UNMAPPED_STATUSES): a job
without a stage puts wrong numbers into every funnel view, so the analytics views downstream are
skipped in that run and keep their last (stale but correct) contents. Dagster skips every asset
downstream of jobs in that run, so job_status_history and sales_reps wait as well: their
partitions show as missing until the mapping is fixed and the range is rerun.
"""

import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    MetadataValue,
    asset_check,
)
from psycopg2 import sql

from gcc_pipeline.partitions import daily_partitions
from gcc_pipeline.stage_mapping import STAGES
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

EXAMPLES = 5  # example ids in a failed check's metadata
DEFAULT_FRESHNESS_HOURS = 48.0

# Normalized table -> its key columns (checked unique and not null).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "contacts": ("id",),
    "jobs": ("id",),
    "payments": ("id",),
    "expenses": ("id",),
    "sales_reps": ("id",),
    "workflow_status_lookup": ("record_type_id", "status_key"),
    "job_status_history": ("job_id", "changed_at", "status_name"),
}

# Normalized table -> the raw entity types it is built from (reconciled per partition).
RECONCILED: dict[str, tuple[str, ...]] = {
    "contacts": ("contact",),
    "jobs": ("job",),
    "payments": ("payment",),
    "expenses": ("workorder", "materialorder"),
}


def block_on_unmapped_statuses() -> bool:
    """GCC_BLOCK_ON_UNMAPPED_STATUSES: "0"/"false"/"no"/"off" lets the analytics refresh despite
    statuses without a stage (read when the definitions load; default: block)."""
    value = os.environ.get("GCC_BLOCK_ON_UNMAPPED_STATUSES", "").strip().lower()
    return value not in ("0", "false", "no", "off")


def freshness_hours() -> float:
    """GCC_FRESHNESS_HOURS (default 48), read at run time so a restart is not needed."""
    raw = os.environ.get("GCC_FRESHNESS_HOURS", "").strip()
    try:
        return float(raw) if raw else DEFAULT_FRESHNESS_HOURS
    except ValueError:
        return DEFAULT_FRESHNESS_HOURS


def _fetch(
    warehouse: WarehouseResource, statement: str | sql.Composable, params: dict | None = None
) -> list[dict[str, Any]]:
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        cur.execute(statement, params or {})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _rows(cur: Any, statement: str | sql.Composable, params: dict | None = None) -> list[dict]:
    cur.execute(statement, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _ids(values: Sequence[str] | None) -> MetadataValue:
    return MetadataValue.json(list(values or []))


def _md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return MetadataValue.md("\n".join(lines))


# ------------------------------------------------------------------ 1. stage-mapping completeness


def _yaml_scalar(value: str) -> str:
    """Plain when YAML reads it back unchanged, else double-quoted (JSON strings are YAML)."""
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._()/&-]*", value) and not value.endswith(" ")
    return value if plain else json.dumps(value)


def mapping_snippet(gaps: Sequence[dict[str, Any]]) -> str:
    """YAML to merge into gcc_pipeline/stage_mappings.yaml: the missing statuses under their
    record type's workflow, below a STAGE placeholder (choosing the stage is a human decision);
    record types the mapping does not know get a record_types line first."""
    unknown_types = sorted(
        {(g["record_type_id"], g["record_type_name"]) for g in gaps if not g["workflow"]},
        key=lambda t: (t[0] is None, t[0] or 0),
    )
    by_workflow: dict[str, list[str]] = {}
    for g in gaps:
        if g["status_name"] is None:
            continue
        workflow = g["workflow"] or g["record_type_name"] or f"record type {g['record_type_id']}"
        names = by_workflow.setdefault(workflow, [])
        if g["status_name"] not in names:
            names.append(g["status_name"])
    lines = ["```yaml"]
    if unknown_types:
        lines.append("record_types:")
        for rt_id, rt_name in unknown_types:
            name = _yaml_scalar(rt_name or f"record type {rt_id}")
            lines.append(f"  - {{id: {rt_id}, name: {name}, workflow: {name}}}")
    lines.append("workflows:")
    for workflow, names in sorted(by_workflow.items()):
        lines.append(f"  {_yaml_scalar(workflow)}:")
        lines.append(f"    STAGE:  # move each status into its stage: {', '.join(STAGES)}")
        lines.extend(f"      - {_yaml_scalar(n)}" for n in names)
    lines.append("```")
    return "\n".join(lines)


def stage_mapping_check(blocking: bool) -> AssetChecksDefinition:
    @asset_check(
        asset="jobs",
        name="stage_mapping_complete",
        blocking=blocking,
        description=(
            "Every (record type, status name) of jobs has a stage in workflow_status_lookup "
            "(test and legacy jobs count too). A job without a stage falls out of every funnel, "
            "so when blocking, the analytics views downstream are skipped in the same run. "
            "Metadata lists the gaps and the YAML to add to stage_mappings.yaml."
        ),
    )
    def stage_mapping_complete(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        gaps = _fetch(warehouse, query("check_stage_mapping_gaps"))
        unmapped = sum(g["job_count"] for g in gaps)
        metadata: dict[str, Any] = {
            "unmapped_jobs": unmapped,
            "unmapped_statuses": len(gaps),
            "blocking": blocking,
        }
        if gaps:
            metadata["gaps"] = _md_table(
                ["record type", "status name", "job count", "workflow", "listed by the API"],
                [
                    (
                        g["record_type_name"] or g["record_type_id"],
                        g["status_name"] if g["status_name"] is not None else "(none)",
                        g["job_count"],
                        g["workflow"] or "(not in the mapping)",
                        "yes" if g["listed_without_stage"] else "no",
                    )
                    for g in gaps
                ],
            )
            metadata["stage_mappings_yaml"] = MetadataValue.md(mapping_snippet(gaps))
            context.log.warning(
                f"{unmapped} jobs in {len(gaps)} statuses without a stage; "
                "add them to gcc_pipeline/stage_mappings.yaml and rematerialize "
                "workflow_status_lookup"
            )
        return AssetCheckResult(
            passed=not gaps, severity=AssetCheckSeverity.ERROR, metadata=metadata
        )

    return stage_mapping_complete


# ------------------------------------------------------------------ 2. keys


def key_check(table: str, key: Sequence[str]) -> AssetChecksDefinition:
    """Unique, not-null key: the upserts and every join rely on it, and a schema change that
    drops a constraint would otherwise go unnoticed."""
    statement = sql.SQL(query("check_keys")).format(
        table=sql.Identifier(table), key=sql.SQL(", ").join(sql.Identifier(c) for c in key)
    )

    @asset_check(
        asset=table,
        name="key_unique_not_null",
        description=(
            f"({', '.join(key)}) is unique and never NULL in {table}: upserts and joins rely on it."
        ),
    )
    def _check(warehouse: WarehouseResource) -> AssetCheckResult:
        (row,) = _fetch(warehouse, statement, {"examples": EXAMPLES})
        bad = row["duplicated_keys"] + row["rows_with_null_key"]
        return AssetCheckResult(
            passed=bad == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "key": ", ".join(key),
                "total_rows": row["total_rows"],
                "duplicated_keys": row["duplicated_keys"],
                "rows_with_duplicated_keys": int(row["rows_with_duplicated_keys"]),
                "rows_with_null_key": row["rows_with_null_key"],
                "examples": _ids(row["examples"]),
            },
        )

    return _check


# ------------------------------------------------------------------ 3. payments -> jobs


@asset_check(
    asset="payments",
    name="payments_link_to_jobs",
    additional_deps=["jobs"],
    description=(
        "Every payment links to a job the warehouse has; orphans are left out of revenue by "
        "record type and job profitability. WARN: usually a job not loaded yet or deleted."
    ),
)
def payments_link_to_jobs(warehouse: WarehouseResource) -> AssetCheckResult:
    (row,) = _fetch(warehouse, query("check_payments_jobs"), {"examples": EXAMPLES})
    orphans = row["without_job"] + row["unknown_job"]
    return AssetCheckResult(
        passed=orphans == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "payments": row["payments"],
            "orphan_payments": orphans,
            "without_job": row["without_job"],
            "unknown_job": row["unknown_job"],
            "orphan_net_amount": float(row["orphan_net_amount"]),
            "examples": _ids(row["examples"]),
        },
    )


# ------------------------------------------------------------------ 4. money sanity


@asset_check(
    asset="payments",
    name="payment_amounts_sane",
    description="Credit never exceeds the total and no amount is negative (net revenue would lie).",
)
def payment_amounts_sane(warehouse: WarehouseResource) -> AssetCheckResult:
    (row,) = _fetch(warehouse, query("check_payment_amounts"), {"examples": EXAMPLES})
    return AssetCheckResult(
        passed=row["credit_above_total"] + row["negative_amount"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "payments": row["payments"],
            "credit_above_total": row["credit_above_total"],
            "negative_amount": row["negative_amount"],
            "examples": _ids(row["examples"]),
        },
    )


@asset_check(
    asset="expenses",
    name="expense_amounts_sane",
    description="No expense has a negative cost (gross profit would be overstated).",
)
def expense_amounts_sane(warehouse: WarehouseResource) -> AssetCheckResult:
    (row,) = _fetch(warehouse, query("check_expense_amounts"), {"examples": EXAMPLES})
    return AssetCheckResult(
        passed=row["negative_amount"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "expenses": row["expenses"],
            "negative_amount": row["negative_amount"],
            "examples": _ids(row["examples"]),
        },
    )


# ------------------------------------------------------------------ 5. raw -> normalized


def reconciliation_check(table: str, entity_types: Sequence[str]) -> AssetChecksDefinition:
    """Per partition (range runs: the whole range): nothing landed raw is silently dropped."""
    statement = sql.SQL(query("check_reconciliation")).format(table=sql.Identifier(table))

    @asset_check(
        asset=table,
        name="raw_reconciled",
        partitions_def=daily_partitions,
        description=(
            f"Every {'/'.join(entity_types)} landed raw in the run's partition window is in "
            f"{table} or in jobnimbus_quarantine: nothing is silently dropped."
        ),
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        window = context.partition_time_window
        (row,) = _fetch(
            warehouse,
            statement,
            {
                "entity_types": list(entity_types),
                "start": window.start,
                "end": window.end,
                "examples": EXAMPLES,
            },
        )
        return AssetCheckResult(
            passed=row["missing"] == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "window": f"[{window.start.isoformat()}, {window.end.isoformat()})",
                "raw": row["raw"],
                "normalized": row["normalized"],
                "quarantined": row["quarantined"],
                "missing": row["missing"],
                "missing_examples": _ids(row["examples"]),
            },
        )

    return _check


# ------------------------------------------------------------------ 6. history


@asset_check(
    asset="job_status_history",
    name="history_consistent",
    additional_deps=["jobs"],
    description=(
        "No job repeats its status in consecutive history rows and no change predates the job "
        "(1 s slack). WARN: these distort stage velocity, not stages, revenue or counts, and "
        "JobNimbus notes can legitimately repeat a status or carry imported timestamps."
    ),
)
def history_consistent(warehouse: WarehouseResource) -> AssetCheckResult:
    (row,) = _fetch(warehouse, query("check_history"), {"examples": EXAMPLES})
    return AssetCheckResult(
        passed=row["repeated_status_rows"] + row["changes_before_job_created"] == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "history_rows": row["history_rows"],
            "repeated_status_rows": row["repeated_status_rows"],
            "changes_before_job_created": row["changes_before_job_created"],
            "repeated_examples": _ids(row["repeated_examples"]),
            "early_examples": _ids(row["early_examples"]),
        },
    )


def history_stage_gaps(cur: Any) -> list[dict[str, Any]]:
    """History rows without a stage, per (record type, status name): a status or an old name of
    a renamed status that the mapping file lacks (it needs a stage, or an alias)."""
    return _rows(cur, query("check_history_stage_gaps"))


@asset_check(
    asset="job_status_history",
    name="history_stage_mapping_complete",
    additional_deps=["jobs", "workflow_status_lookup"],
    description=(
        "Every history row has a stage: its status name (or an alias of a renamed status, or "
        "its status id) is in the mapping. A row without one drops out of velocity, funnels "
        "and dates. Metadata lists the status names and the YAML to add."
    ),
)
def history_stage_mapping_complete(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        gaps = history_stage_gaps(cur)
    metadata: dict[str, Any] = {
        "unmapped_rows": sum(g["history_rows"] for g in gaps),
        "unmapped_statuses": len(gaps),
    }
    if gaps:
        metadata["gaps"] = _md_table(
            ["record type", "status name", "history rows", "jobs", "workflow", "listed by the API"],
            [
                (
                    g["record_type_name"] or g["record_type_id"] or "(job unknown)",
                    g["status_name"],
                    g["history_rows"],
                    g["job_count"],
                    g["workflow"] or "(not in the mapping)",
                    "yes" if g["listed_without_stage"] else "no",
                )
                for g in gaps
            ],
        )
        snippet = mapping_snippet(gaps).removesuffix("```")
        metadata["stage_mappings_yaml"] = MetadataValue.md(
            snippet + "# an old name of a renamed status goes under aliases: instead:\n"
            "#   aliases: {Workflow: {old name: current name}}\n```"
        )
    return AssetCheckResult(passed=not gaps, severity=AssetCheckSeverity.ERROR, metadata=metadata)


def history_first_rows(cur: Any, examples: int = EXAMPLES) -> dict[str, Any]:
    """Jobs whose history lacks their first status at creation (velocity would start late)."""
    (row,) = _rows(cur, query("check_history_first_rows"), {"examples": examples})
    return row


@asset_check(
    asset="job_status_history",
    name="history_starts_at_creation",
    additional_deps=["jobs"],
    description=(
        "Every job with a status has its first status in history at its creation (accounts "
        "do not log it; history_created.sql records it). Without it a job never reached its "
        "first stage and velocity starts at its first change."
    ),
)
def history_starts_at_creation(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        row = history_first_rows(cur)
    return AssetCheckResult(
        passed=row["jobs_without_first_row"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "jobs": row["jobs"],
            "jobs_without_status": row["jobs_without_status"],
            "jobs_without_first_row": row["jobs_without_first_row"],
            "examples": _ids(row["examples"]),
        },
    )


# ------------------------------------------------------------------ 7. revenue reconciles

REVENUE_BREAKDOWNS = (
    "revenue_daily", "revenue_by_month", "rep_monthly", "rep_performance",
    "lead_source_performance", "job_type_monthly", "cash_flow_by_month",
)  # fmt: skip


def revenue_breakdowns(cur: Any) -> list[dict[str, Any]]:
    """Each revenue breakdown's sum against the total computed from the payments."""
    return _rows(cur, query("check_revenue_reconciles"))


@asset_check(
    asset="revenue_payments",
    name="revenue_breakdowns_reconcile",
    additional_deps=["payments", "jobs", "contacts", *REVENUE_BREAKDOWNS],
    description=(
        "Every revenue breakdown (by day, month, job type, method, source, rep, job type month, "
        "cash flow) adds up to the revenue total computed from the payments (net of credits and "
        "refunds, archived and test records out, legacy in); unassigned money has its own "
        "'(unassigned)' row instead of vanishing."
    ),
)
def revenue_breakdowns_reconcile(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connection() as conn, conn, conn.cursor() as cur:
        rows = revenue_breakdowns(cur)
    off = [r for r in rows if r["off_by"] != 0]
    metadata: dict[str, Any] = {
        "revenue_total": float(rows[0]["total"]) if rows else 0.0,
        "breakdowns": len(rows),
        "breakdowns_off_count": len(off),
    }
    if off:
        metadata["breakdowns_off"] = _md_table(
            ["breakdown", "its total", "off by"],
            [(r["breakdown"], r["revenue"], r["off_by"]) for r in off],
        )
    return AssetCheckResult(passed=not off, severity=AssetCheckSeverity.ERROR, metadata=metadata)


# ------------------------------------------------------------------ 8. freshness


@asset_check(
    asset="jobs",
    name="jobs_fresh",
    description=(
        "The newest job date_updated is at most GCC_FRESHNESS_HOURS (default 48) old: an older "
        "one means ingestion stalled (or the account was idle). WARN, never blocking."
    ),
)
def jobs_fresh(warehouse: WarehouseResource) -> AssetCheckResult:
    (row,) = _fetch(warehouse, query("check_jobs_freshness"))
    limit = freshness_hours()
    newest, lag = row["newest_date_updated"], row["lag_hours"]
    metadata: dict[str, Any] = {
        "newest_date_updated": newest.isoformat() if newest else "(no jobs)",
        "max_lag_hours": limit,
        "jobs": row["jobs"],
    }
    if lag is not None:
        metadata["lag_hours"] = round(float(lag), 2)
    return AssetCheckResult(
        passed=lag is not None and float(lag) <= limit,
        severity=AssetCheckSeverity.WARN,
        metadata=metadata,
    )


# ------------------------------------------------------------------ all


def build_asset_checks(
    block_unmapped: Callable[[], bool] = block_on_unmapped_statuses,
) -> list[AssetChecksDefinition]:
    """Every check; rebuild (e.g. in tests) after changing GCC_BLOCK_ON_UNMAPPED_STATUSES."""
    return [
        stage_mapping_check(blocking=block_unmapped()),
        *(key_check(table, key) for table, key in TABLE_KEYS.items()),
        payments_link_to_jobs,
        payment_amounts_sane,
        expense_amounts_sane,
        *(reconciliation_check(table, types) for table, types in RECONCILED.items()),
        history_consistent,
        history_stage_mapping_complete,
        history_starts_at_creation,
        revenue_breakdowns_reconcile,
        jobs_fresh,
    ]


ASSET_CHECKS: list[AssetChecksDefinition] = build_asset_checks()
