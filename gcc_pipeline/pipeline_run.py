"""The whole pipeline as one recorded Dagster run, and the summary `gcc run` prints."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from gcc_pipeline.environment import Environment
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.server import connect

EXCLUDED_FROM_RUN = {"reconciliation"}  # weekly, on its own schedule


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    name: str
    passed: bool
    severity: str
    metadata: dict[str, Any]


@dataclass
class Outcome:
    run_id: str
    success: bool
    checks: list[CheckOutcome] = field(default_factory=list)
    not_materialized: list[str] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        return self.success and not any(c.severity == "ERROR" for c in self.failed_checks)


def run_everything(env: Environment, progress: Callable[[str], None]) -> Outcome:
    """Every partition from GCC_START_DATE to today in one run (a single backfill chunk), then
    the analytics views and every check, recorded in the instance `gcc dev` opens."""
    from gcc_pipeline.definitions import defs
    from gcc_pipeline.partitions import daily_partitions

    instance = dg.DagsterInstance.get()
    keys = daily_partitions.get_partition_keys()
    assets = [
        a for a in defs.assets
        if not {k.to_user_string() for k in a.keys} & EXCLUDED_FROM_RUN
    ]  # fmt: skip
    progress(f"materializing partitions {keys[0]}..{keys[-1]} ({len(keys)} days) as one run")
    result = dg.materialize(
        [*assets, *(defs.asset_checks or [])],
        instance=instance,
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
            "gcc/launched_by": "gcc run",
        },
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
    done = {
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    wanted = {k.to_user_string() for a in assets for k in a.keys}
    checks = [
        CheckOutcome(
            asset=e.asset_key.to_user_string(),
            name=e.check_name,
            passed=e.passed,
            severity=e.severity.value,
            metadata={k: v.value for k, v in e.metadata.items()},
        )
        for e in result.get_asset_check_evaluations()
    ]
    return Outcome(result.run_id, result.success, checks, sorted(wanted - done))


def _money(value: Any) -> str:
    return f"${float(value or 0):,.2f}"


def summarize(env: Environment, outcome: Outcome, seconds: float) -> str:
    lines = [
        "",
        f"gcc run {'finished' if outcome.success else 'FAILED'} in {seconds:.1f} s "
        f"(Dagster run {outcome.run_id[:8]}; `gcc dev` shows it)",
        "",
        "rows per table:",
    ]
    conn = connect(env.target.warehouse_url)
    try:
        with conn.cursor() as cur:
            cur.execute(query("summary_counts"))
            lines += [f"  {name:<24}{count:>12,}" for name, count in cur.fetchall()]
            passed = sum(c.passed for c in outcome.checks)
            lines += ["", f"checks: {passed} passed, {len(outcome.failed_checks)} failed"]
            for check in outcome.failed_checks:
                lines.append(f"  FAILED [{check.severity}] {check.asset}:{check.name}")
                for key, value in check.metadata.items():
                    text = getattr(value, "md_str", None) or getattr(value, "text", None) or value
                    lines += [f"    {key}: " + str(text).replace("\n", "\n      ")]
            if outcome.not_materialized:
                lines += [
                    "",
                    "not refreshed (blocked or failed): " + ", ".join(outcome.not_materialized),
                ]
            cur.execute("SELECT to_regclass('analytics.revenue_by_month') IS NOT NULL")
            if cur.fetchone()[0]:
                cur.execute(query("summary_revenue"))
                lines += ["", "revenue, last months (net payments):"]
                lines += [
                    f"  {m:%Y-%m}  {_money(r):>16}  {n:>6} payments" for m, r, n in cur.fetchall()
                ]
                cur.execute(query("summary_pipeline"))
                lines += ["", "pipeline by stage (active jobs):"]
                lines += [
                    f"  {s:<22}{n:>8,} jobs  {_money(v):>16}" for s, _, n, v in cur.fetchall()
                ]
    finally:
        conn.close()
    return "\n".join(lines)
