"""Asset checks on the warehouse tables, evaluated inside the step that writes their asset.

Each check is set-based SQL in sql/load/check_*.sql and a function turning its row into an
`AssetCheckResult` with the metadata the UI shows. Running them in their asset's step (as
`check_specs`) costs no step, no process and no extra run of their own; a check can still be
executed alone from the UI (the step then only evaluates it).

Only stage-mapping completeness blocks (switchable with GCC_BLOCK_ON_UNMAPPED_STATUSES): a job
without a stage puts wrong numbers into every funnel view, so the analytics views downstream are
skipped in that run and keep their last (stale but correct) contents. History and sales reps read
the raw jobs, not `jobs`, so they never wait for it.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
    asset_check,
)
from psycopg2 import sql

from gcc_pipeline import clock
from gcc_pipeline.markdown import md_table
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.settings import Settings, load_settings
from gcc_pipeline.stage_mapping import STAGES
from gcc_pipeline.streams import Table, all_tables, stream_tables, streams_of
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource

EXAMPLES = 5  # example ids in a failed check's metadata


@dataclass(frozen=True)
class CheckInputs:
    """What a check may read: a cursor on the warehouse, the run, the account settings."""

    cur: Any
    run_id: str
    landed_streams: frozenset[str]  # streams this run landed (the raw_reconciled scope)
    freshness_hours: float
    blocking: bool  # whether the check being evaluated blocks its downstream
    now: datetime = field(default_factory=clock.now)  # what "now" means for this evaluation

    def row(self, statement: str | sql.Composable, params: dict | None = None) -> dict[str, Any]:
        rows = self.rows(statement, params)
        return rows[0]

    def rows(self, statement: str | sql.Composable, params: dict | None = None) -> list[dict]:
        self.cur.execute(statement, params or {})
        names = [d[0] for d in self.cur.description]
        return [dict(zip(names, r, strict=True)) for r in self.cur.fetchall()]


@dataclass(frozen=True)
class Check:
    asset: str
    name: str
    description: str
    evaluate: Callable[[CheckInputs], AssetCheckResult]
    blocking: bool = False
    reads: tuple[str, ...] = ()  # the tables its result depends on (default: its asset's)
    always: bool = False  # evaluated even when nothing it reads changed (it depends on time)

    def affected_by(self, changed: Iterable[str]) -> bool:
        return self.always or bool(set(self.reads or (self.asset,)) & set(changed))

    @property
    def key(self) -> AssetCheckKey:
        return AssetCheckKey.from_user_string(f"{self.asset}:{self.name}")

    def spec(self) -> AssetCheckSpec:
        return AssetCheckSpec(
            self.name, asset=self.asset, description=self.description, blocking=self.blocking
        )


def _ids(values: Sequence[str] | None) -> MetadataValue:
    return MetadataValue.json(list(values or []))


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


def gap_reason(gaps: Sequence[dict[str, Any]], blocking: bool) -> str:
    """At most five lines a person acts on: each unmapped status of each workflow with its jobs,
    and where to put it."""
    by_workflow: dict[str, dict[str, int]] = {}
    for g in gaps:
        workflow = g["workflow"] or g["record_type_name"] or f"record type {g['record_type_id']}"
        status = g["status_name"] if g["status_name"] is not None else "(none)"
        counts = by_workflow.setdefault(workflow, {})
        counts[status] = counts.get(status, 0) + g["job_count"]
    shown = list(by_workflow.items())[:4]
    more = f"; and {len(by_workflow) - 4} more workflows" if len(by_workflow) > 4 else ""
    listed = "; ".join(
        f"{w}: " + ", ".join(f"'{name}' ({n} job{'s' * (n != 1)})" for name, n in counts.items())
        for w, counts in shown
    )
    fixes = "; ".join(
        f"{w}: <stage>: [..., {', '.join(_yaml_scalar(n) for n in counts if n != '(none)')}]"
        for w, counts in shown
    )
    unknown = any(not g["workflow"] for g in gaps)
    new_types = " (a record type not in the mapping also needs a record_types line)"
    held = "; the analytics views keep their last numbers" if blocking else ""
    jobs = sum(g["job_count"] for g in gaps)
    return "\n".join([
        f"{len(gaps)} job status(es) have no stage ({jobs} jobs){held}:",
        listed + more,
        "fix: in gcc_pipeline/stage_mappings.yaml append each to one stage of its workflow "
        f"({', '.join(STAGES)}){new_types if unknown else ''}, then run again:",
        f"  workflows: {fixes}",
    ])  # fmt: skip


def _stage_mapping(inputs: CheckInputs) -> AssetCheckResult:
    gaps = inputs.rows(query("check_stage_mapping_gaps"))
    unmapped = sum(g["job_count"] for g in gaps)
    metadata: dict[str, Any] = {
        "unmapped_jobs": unmapped,
        "unmapped_statuses": len(gaps),
        "blocking": inputs.blocking,
    }
    if gaps:
        metadata["reason"] = MetadataValue.text(gap_reason(gaps, inputs.blocking))
        metadata["gaps"] = MetadataValue.md(
            md_table(
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
        )
        metadata["stage_mappings_yaml"] = MetadataValue.md(mapping_snippet(gaps))
    return AssetCheckResult(passed=not gaps, severity=AssetCheckSeverity.ERROR, metadata=metadata)


# ------------------------------------------------------------------ 2. keys


def _keys(table: Table) -> Callable[[CheckInputs], AssetCheckResult]:
    statement = sql.SQL(query("check_keys")).format(
        table=sql.Identifier(table.name),
        key=sql.SQL(", ").join(sql.Identifier(c) for c in table.key),
    )

    def evaluate(inputs: CheckInputs) -> AssetCheckResult:
        # A key the database enforces cannot be broken: say so without scanning the table (the
        # hourly runs check every table). A dropped constraint falls back to the full scan.
        guard = inputs.row(query("key_enforced"), {"table": table.name, "key": list(table.key)})
        if guard["enforced"]:
            return AssetCheckResult(
                passed=True,
                severity=AssetCheckSeverity.ERROR,
                metadata={
                    "key": ", ".join(table.key),
                    "enforced_by": "a primary key or unique constraint (NOT NULL)",
                    "estimated_rows": max(0, guard["estimated_rows"] or 0),
                },
            )
        row = inputs.row(statement, {"examples": EXAMPLES})
        bad = row["duplicated_keys"] + row["rows_with_null_key"]
        return AssetCheckResult(
            passed=bad == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "key": ", ".join(table.key),
                "total_rows": row["total_rows"],
                "duplicated_keys": row["duplicated_keys"],
                "rows_with_duplicated_keys": int(row["rows_with_duplicated_keys"]),
                "rows_with_null_key": row["rows_with_null_key"],
                "examples": _ids(row["examples"]),
            },
        )

    return evaluate


# ------------------------------------------------------------------ 3. raw -> normalized


def _raw_reconciled(table: Table) -> Callable[[CheckInputs], AssetCheckResult]:
    streams = [s.name for s in streams_of(table)]
    statement = sql.SQL(query("check_reconciliation")).format(table=sql.Identifier(table.name))

    def evaluate(inputs: CheckInputs) -> AssetCheckResult:
        run_id = inputs.run_id if inputs.landed_streams & set(streams) else None
        if run_id is None:  # executed alone: the latest run that landed these streams
            found = inputs.rows(query("latest_landing_run"), {"streams": streams})
            run_id = found[0]["run_id"] if found else ""
        row = inputs.row(
            statement,
            {"entity_types": [s.entity_type for s in streams_of(table)], "run_id": run_id,
             "examples": EXAMPLES},
        )  # fmt: skip
        return AssetCheckResult(
            passed=row["missing"] == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "run_checked": run_id or "(none yet)",
                "raw": row["raw"],
                "normalized": row["normalized"],
                "quarantined": row["quarantined"],
                "missing": row["missing"],
                "missing_examples": _ids(row["examples"]),
            },
        )

    return evaluate


# ------------------------------------------------------------------ 4. links and money


def _payments_link_to_jobs(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_payments_jobs"), {"examples": EXAMPLES})
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


def _payment_amounts(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_payment_amounts"), {"examples": EXAMPLES})
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


def _expense_amounts(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_expense_amounts"), {"examples": EXAMPLES})
    return AssetCheckResult(
        passed=row["negative_amount"] == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "expenses": row["expenses"],
            "negative_amount": row["negative_amount"],
            "examples": _ids(row["examples"]),
        },
    )


# ------------------------------------------------------------------ 5. history and freshness


def _history_consistent(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_history"), {"examples": EXAMPLES})
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


def _no_future_dates(inputs: CheckInputs) -> AssetCheckResult:
    rows = inputs.rows(query("check_future_dates"))
    ahead = [r for r in rows if r["future_dated"]]
    metadata: dict[str, Any] = {"future_dated": sum(r["future_dated"] for r in ahead)}
    if ahead:
        metadata["streams"] = MetadataValue.md(
            md_table(
                ["stream", "records dated after the load began", "newest date", "load began"],
                [(r["stream"], r["future_dated"], r["newest"].isoformat(),
                  r["load_began"].isoformat()) for r in ahead],
            )
        )  # fmt: skip
    return AssetCheckResult(passed=not ahead, severity=AssetCheckSeverity.WARN, metadata=metadata)


def _jobs_fresh(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_jobs_freshness"), {"now": inputs.now})
    limit = inputs.freshness_hours
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


# ------------------------------------------------------------------ 6. history is complete


def _history_stage_mapping(inputs: CheckInputs) -> AssetCheckResult:
    """History rows without a stage, per (record type, status name): a status, or an old name of
    a renamed status, that the mapping file lacks (it needs a stage, or an alias)."""
    gaps = inputs.rows(query("check_history_stage_gaps"))
    metadata: dict[str, Any] = {
        "unmapped_rows": sum(g["history_rows"] for g in gaps),
        "unmapped_statuses": len(gaps),
    }
    if gaps:
        names = sorted({g["status_name"] for g in gaps})
        metadata["reason"] = MetadataValue.text(
            f"{metadata['unmapped_rows']} history rows have a status without a stage: "
            f"{', '.join(repr(n) for n in names[:6])}{' ...' if len(names) > 6 else ''}\n"
            "a status jobs:stage_mapping_complete lists needs a stage; an old name of a renamed "
            "status needs an alias (aliases: in gcc_pipeline/stage_mappings.yaml)"
        )
        metadata["gaps"] = MetadataValue.md(
            md_table(
                [
                    "record type",
                    "status name",
                    "history rows",
                    "jobs",
                    "workflow",
                    "listed by the API",
                ],
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
        )
        snippet = mapping_snippet(gaps).removesuffix("```")
        metadata["stage_mappings_yaml"] = MetadataValue.md(
            snippet + "# an old name of a renamed status goes under aliases: instead:\n"
            "#   aliases: {Workflow: {old name: current name}}\n```"
        )
    return AssetCheckResult(passed=not gaps, severity=AssetCheckSeverity.ERROR, metadata=metadata)


def _history_first_rows(inputs: CheckInputs) -> AssetCheckResult:
    row = inputs.row(query("check_history_first_rows"), {"examples": EXAMPLES})
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


def _revenue_reconciles(inputs: CheckInputs) -> AssetCheckResult:
    """Each revenue breakdown's sum against the total computed from the payments."""
    rows = inputs.rows(query("check_revenue_reconciles"))
    off = [r for r in rows if r["off_by"] != 0]
    metadata: dict[str, Any] = {
        "revenue_total": float(rows[0]["total"]) if rows else 0.0,
        "breakdowns": len(rows),
        "breakdowns_off_count": len(off),
    }
    if off:
        metadata["breakdowns_off"] = MetadataValue.md(
            md_table(
                ["breakdown", "its total", "off by"],
                [(r["breakdown"], r["revenue"], r["off_by"]) for r in off],
            )
        )
    return AssetCheckResult(passed=not off, severity=AssetCheckSeverity.ERROR, metadata=metadata)


# ------------------------------------------------------------------ 8. receivables


def _receivables_match_invoices(inputs: CheckInputs) -> AssetCheckResult:
    """Receivables from the invoices against the job roll-up, job by job (jobs created before the
    invoices' window are counted apart: their older invoices were never fetched)."""
    row = inputs.row(query("check_receivables_match_invoices"), {"examples": EXAMPLES})
    return AssetCheckResult(
        passed=row["jobs_disagreeing"] == 0,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "jobs": row["jobs"],
            "jobs_before_window": row["jobs_before_window"],
            "jobs_disagreeing": row["jobs_disagreeing"],
            "receivable_from_invoices": float(row["receivable_from_invoices"]),
            "receivable_rollup": float(row["receivable_rollup"]),
            "absolute_difference": float(row["absolute_difference"]),
            "examples": _ids(row["examples"]),
        },
    )


# ------------------------------------------------------------------ all


def build_checks(settings: Settings) -> tuple[Check, ...]:
    """Every check; the stage-mapping check blocks unless GCC_BLOCK_ON_UNMAPPED_STATUSES is off."""
    reconciled = [t for t in stream_tables() if any(s.reconciled for s in streams_of(t))]
    return (
        Check(
            "jobs",
            "stage_mapping_complete",
            "Every (record type, status name) of jobs has a stage in workflow_status_lookup (test "
            "and legacy jobs count too). A job without a stage falls out of every funnel, so when "
            "blocking the analytics views downstream are skipped in the same run. Metadata lists "
            "the gaps and the YAML to add to stage_mappings.yaml.",
            _stage_mapping,
            blocking=settings.block_on_unmapped_statuses,
        ),
        *(
            Check(t.name, "key_unique_not_null",
                  f"({', '.join(t.key)}) is unique and never NULL in {t.name}: upserts and joins "
                  "rely on it.", _keys(t))
            for t in all_tables()
        ),
        *(
            Check(t.name, "raw_reconciled",
                  f"Every {'/'.join(s.entity_type for s in streams_of(t))} payload the latest load "
                  f"landed raw is in {t.name} or in jobnimbus_quarantine: nothing is silently "
                  "dropped.", _raw_reconciled(t))
            for t in reconciled
        ),
        Check("payments", "payments_link_to_jobs",
              "Every payment links to a job the warehouse has. WARN: usually a job not loaded "
              "yet or deleted; such payments count as revenue under '(unknown job)'.",
              _payments_link_to_jobs, reads=("payments", "jobs")),
        Check("payments", "payment_amounts_sane",
              "Credit never exceeds the total and no amount is negative (net revenue would lie).",
              _payment_amounts),
        Check("expenses", "expense_amounts_sane",
              "No expense has a negative cost (gross profit would be overstated).",
              _expense_amounts),
        Check("job_status_history", "history_consistent",
              "No job repeats its status in consecutive history rows and no change predates the "
              "job (1 s slack). WARN: these distort stage velocity, not stages or revenue, and "
              "JobNimbus notes can legitimately repeat a status or carry imported timestamps.",
              _history_consistent),
        Check("job_status_history", "history_stage_mapping_complete",
              "Every history row has a stage: its status name (or an alias of a renamed status, "
              "or its status id) is in the mapping. A row without one drops out of velocity, "
              "funnels and dates. Metadata lists the status names and the YAML to add.",
              _history_stage_mapping),
        Check("job_status_history", "history_starts_at_creation",
              "Every job with a status has its first status in history at its creation "
              "(accounts do not log it; history_created.sql records it). Without it a job never "
              "reached its first stage and velocity starts at its first change.",
              _history_first_rows, reads=("job_status_history", "jobs")),
        Check("revenue_payments", "revenue_breakdowns_reconcile",
              "Every revenue breakdown (by day, month, job type, method, source, rep, job type "
              "month, cash flow) adds up to the revenue total computed from the payments (net of "
              "credits and refunds, archived and test records out, legacy in); unassigned money "
              "has its own '(unassigned)' row instead of vanishing.",
              _revenue_reconciles, reads=("revenue_payments", "revenue_daily", "revenue_by_month",
                                          "rep_monthly", "job_type_monthly", "cash_flow_by_month",
                                          "lead_source_performance")),
        Check("job_receivables", "receivables_match_invoices",
              "Every live job's receivable from its invoices (their due) equals the job roll-up "
              "(approved_invoice_total - revenue). WARN: a payment not applied to its invoice, a "
              "credit or refund only one side shows, or an invoice the roll-up does not count "
              "yet; metadata names the jobs that disagree most. Jobs created before the invoices' "
              "window (GCC_START_DATE) are counted apart, not judged: their older invoices were "
              "never fetched.",
              _receivables_match_invoices),
        Check("jobnimbus_raw_events", "dates_not_ahead_of_the_load",
              "The latest load of each stream landed no record dated after that load began. "
              "WARN: such records (an API clock ahead of ours, a bad date) are kept, and the "
              "stream's high-water mark never passes the load's start, so later catch-ups still "
              "fetch everything changed meanwhile.",
              _no_future_dates, always=True),
        Check("jobs", "jobs_fresh",
              "The newest job date_updated is at most GCC_FRESHNESS_HOURS (default 48) old: an "
              "older one means ingestion stalled (or the account was idle). WARN.",
              _jobs_fresh, always=True),
    )  # fmt: skip


CHECKS: tuple[Check, ...] = build_checks(load_settings())


def checks_on(assets: Iterable[str], checks: Sequence[Check] = CHECKS) -> tuple[Check, ...]:
    """The checks of these assets that run inside their asset's step (all but the blocking one)."""
    wanted = set(assets)
    return tuple(c for c in checks if c.asset in wanted and not c.blocking)


def standalone(check: Check, deps: Sequence[str] = ()) -> AssetChecksDefinition:
    """A blocking check as a step of its own: in its asset's step a failure would fail the step
    (and everything downstream of it); alone, it only holds back what depends on its asset."""

    @asset_check(
        asset=check.asset,
        name=check.name,
        description=check.description,
        blocking=check.blocking,
        additional_deps=list(deps),
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, account: AccountResource
    ) -> AssetCheckResult:
        with warehouse.connection() as conn, conn, conn.cursor() as cur:
            return check.evaluate(
                CheckInputs(cur, context.run.run_id, frozenset(), account.freshness_hours,
                            check.blocking)
            )  # fmt: skip

    return _check


STANDALONE_CHECKS = [standalone(c) for c in CHECKS if c.blocking]


def evaluate(
    context: AssetExecutionContext,
    conn: Any,
    checks: Sequence[Check],
    *,
    freshness_hours: float,
    landed_streams: Iterable[str] = (),
    changed: Iterable[str] | None = None,
) -> Iterator[AssetCheckResult]:
    """The results of the checks selected in this step. With `changed` (the tables this step
    changed), only the checks whose tables changed, or that depend on time: the others' last
    results still hold, and a run that changed nothing stores no evaluation it did not need.
    Checks only read, so each statement runs on its own (no transaction to open and commit)."""
    selected = context.selected_asset_check_keys
    landed = frozenset(landed_streams)
    due = [c for c in checks if c.key in selected and (changed is None or c.affected_by(changed))]
    if not conn.autocommit:
        conn.commit()  # whatever the step read or wrote before its checks
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        for check in due:
            yield _evaluated(context, conn, check, landed, freshness_hours)
    finally:
        conn.autocommit = autocommit


def _evaluated(
    context: AssetExecutionContext,
    conn: Any,
    check: Check,
    landed: frozenset[str],
    freshness_hours: float,
) -> AssetCheckResult:
    with conn.cursor() as cur:
        result = check.evaluate(
            CheckInputs(cur, context.run.run_id, landed, freshness_hours, check.blocking)
        )
    if not result.passed:
        context.log.warning(f"check {check.asset}:{check.name} failed")
    return AssetCheckResult(
        asset_key=check.key.asset_key,
        check_name=check.name,
        passed=result.passed,
        severity=result.severity,
        metadata=result.metadata,
    )
