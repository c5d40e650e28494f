"""`gcc run`: decide what to load, run `sync_job` as one recorded Dagster run, summarize it.

A first run loads every month from GCC_START_DATE; later runs catch up from each stream's
high-water mark (`--full` reloads everything, `--since` from a date). The run is a named job in
the instance `gcc dev` opens, so it shows in the UI like a scheduled one.
"""

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import dagster as dg
from psycopg2 import sql

from gcc_pipeline import clock
from gcc_pipeline.console import root_cause
from gcc_pipeline.environment import Environment
from gcc_pipeline.failures import record_failure
from gcc_pipeline.jobs import COMPACT_LOGS
from gcc_pipeline.settings import PROJECT_ROOT, Settings
from gcc_pipeline.streams import STREAMS, all_tables, stream_tables
from gcc_pipeline.sync.state import SyncState, read_states
from gcc_pipeline.warehouse.pool import borrowed
from gcc_pipeline.warehouse.queries import query

if TYPE_CHECKING:
    from gcc_pipeline.jobnimbus import JobNimbusResource

JOB = "sync_job"
#: What the ingestion step records when its load changed something (or was asked to record).
INGESTED = {"jobnimbus_raw_events", *(t.name for t in stream_tables())}
Oldest = dict[str, tuple[bool, datetime | None]]  # stream -> (any record, its oldest date)


@dataclass(frozen=True)
class RunPlan:
    first: str  # first partition key
    last: str
    run_config: dict[str, Any]
    message: str  # the first line `gcc run` prints


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
    errors: list[str] = field(default_factory=list)  # one line per failed step

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    @property
    def ok(self) -> bool:
        return self.success and not any(c.severity == "ERROR" for c in self.failed_checks)


def instance_for(settings: Settings) -> dg.DagsterInstance:
    """The instance `gcc dev` opens: dagster.yaml of the project, state under GCC_HOME. This
    process reads no schedules: their storage meets the server only if something reads it."""
    from dagster._core.instance.ref import InstanceRef

    from gcc_pipeline.instance import GccScheduleStorage

    GccScheduleStorage.AT_FIRST_USE = True

    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_ref(
        InstanceRef.from_dir(str(home), config_dir=str(PROJECT_ROOT))
    )


def _local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def plan_run(
    settings: Settings,
    states: dict[str, SyncState],
    *,
    full: bool,
    since: date | None,
    oldest: Callable[[], Oldest] = dict,
) -> RunPlan:
    """`oldest` (asked only for a whole load) says where each stream's records begin: the run's
    partitions start at the oldest one's month, since older months hold nothing to load or
    record, and the run's step reuses the answers instead of asking again."""
    from gcc_pipeline.partitions import history_start, keys_through_now, month_key

    keys = keys_through_now()
    first, last = keys[0], keys[-1]
    floor = history_start(settings)
    if since is not None:
        moment = datetime.combine(since, datetime.min.time(), ZoneInfo(settings.timezone))
        return RunPlan(
            month_key(moment), last, {"since": moment.isoformat()},
            f"reloading from {since.isoformat()} (--since): months {month_key(moment)}..{last}",
        )  # fmt: skip
    missing = [s.name for s in STREAMS if s.name not in states]
    behind = [s.name for s in STREAMS if s.name in states and states[s.name].covered_from > floor]
    if full or missing or behind:
        why = (
            "--full" if full
            else "first load" if len(missing) == len(STREAMS)
            else f"never fully loaded: {', '.join(missing)}" if missing
            else f"GCC_START_DATE moved earlier than what {', '.join(behind)} covered"
        )  # fmt: skip
        answers = oldest()
        begins, note = earliest(answers), ""
        if begins is not None and month_key(begins) > first:
            first = min(month_key(begins), last)
            keys = keys[keys.index(first) :]
            note = f"; nothing in JobNimbus is older (GCC_START_DATE {floor.date()})"
        return RunPlan(
            first, last, {"oldest": known_oldest(answers)} if answers else {},
            f"{why}: every month from {first[:7]} to {last[:7]} ({len(keys)} partitions){note}",
        )  # fmt: skip
    return RunPlan(last, last, {"incremental": True}, _catching_up(settings, states))


def _catching_up(settings: Settings, states: dict[str, SyncState]) -> str:
    """Where a catch-up starts: the earliest high-water mark (never after now), and the streams
    that have none yet, which are read from their latest month rather than reloaded."""
    now = clock.now()
    marks = {name: min(s.high_water_mark, now) for name, s in states.items() if s.high_water_mark}
    empty = sorted(set(states) - set(marks))
    line = (
        f"catching up from {_local(min(marks.values()), settings)} ({settings.timezone}), "
        "each stream from its own high-water mark"
        if marks else "catching up: no stream has a record yet"
    )  # fmt: skip
    if empty:
        line += f"; no record yet in {', '.join(empty)} (its latest month is read)"
    return line


def read_plan(env: Environment, *, full: bool, since: date | None) -> RunPlan:
    with borrowed(env.target.warehouse_url) as conn:
        states = read_states(conn)
    return plan_run(env.settings, states, full=full, since=since,
                    oldest=lambda: oldest_by_stream(_jobnimbus(env.settings)))  # fmt: skip


def _jobnimbus(settings: Settings) -> "JobNimbusResource":
    from gcc_pipeline.resources import jobnimbus_resource

    return jobnimbus_resource(settings, settings.jobnimbus_api_key or "")


def oldest_by_stream(jobnimbus: "JobNimbusResource") -> Oldest:
    """Where each stream's records begin (one request each, concurrently)."""
    return dict(zip((s.name for s in STREAMS), jobnimbus.oldest(STREAMS), strict=True))


def earliest(answers: Oldest) -> datetime | None:
    """The oldest window date over all streams; None when unknown."""
    if any(found and at is None for found, at in answers.values()):
        return None  # a record with an unreadable date: where the data begins is unknown
    dates = [at for found, at in answers.values() if found and at is not None]
    return min(dates) if dates else None


def oldest_record(jobnimbus: "JobNimbusResource") -> datetime | None:
    return earliest(oldest_by_stream(jobnimbus))


def known_oldest(answers: Oldest) -> dict[str, str]:
    """The answers a run's step may reuse (IngestConfig.oldest): '' for a stream without
    records; a stream whose oldest date was unreadable is left for the step to ask."""
    return {
        name: at.isoformat() if at else ""
        for name, (found, at) in answers.items()
        if not (found and at is None)
    }


def run_sync(
    env: Environment, instance: dg.DagsterInstance, plan: RunPlan, progress: Callable[[str], None]
) -> Outcome:
    """`sync_job` over the plan's partitions, in this process, recorded in `instance`."""
    from gcc_pipeline.definitions import defs
    from gcc_pipeline.launch import run_job

    job = defs.resolve_job_def(JOB)
    run_config: dict[str, Any] = dict(COMPACT_LOGS)
    if plan.run_config:
        run_config["ops"] = {"jobnimbus": {"config": plan.run_config}}
    result = run_job(
        instance,
        JOB,
        run_config=run_config,
        tags={
            "dagster/asset_partition_range_start": plan.first,
            "dagster/asset_partition_range_end": plan.last,
            "gcc/launched_by": "gcc run",
            "gcc/host": socket.gethostname(),
        },
    )
    done = {
        e.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    succeeded = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    if "jobnimbus" in succeeded and not done & INGESTED:
        # A catch-up that changed nothing records no table: the steps after it are skipped,
        # not held back (ingestion.py, _records_nothing).
        succeeded |= {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"}
    wanted = {
        k.to_user_string()
        for k in job.asset_layer.selected_asset_keys
        if defs.get_assets_def(k).op.name not in succeeded  # ran: unchanged, not held back
    }
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
    errors = [
        _first_line(e) for e in result.all_events if e.is_step_failure and not _check_failed(e)
    ]
    if not result.success:
        with borrowed(env.target.warehouse_url) as conn:
            record_failure(
                conn, run_id=result.run_id, job_name=JOB,
                message="; ".join(errors) or "run failed",
                webhook_url=env.settings.failure_webhook_url or "",
            )  # fmt: skip
    return Outcome(result.run_id, result.success, checks, sorted(wanted - done), errors)


def _first_line(event: dg.DagsterEvent) -> str:
    return f"{event.step_key or 'run'}: {root_cause(event.step_failure_data.error)}"


def _check_failed(event: dg.DagsterEvent) -> bool:
    """A step failed by its own blocking check: the check's result says why, not Dagster."""
    error = event.step_failure_data.error
    return bool(error) and error.cls_name == "DagsterAssetCheckFailedError"


def check_lines(check: CheckOutcome) -> list[str]:
    """A failed check in a few lines: its reason when it gives one, else its figures."""
    lines = [f"  FAILED [{check.severity}] {check.asset}:{check.name}"]
    reason = check.metadata.get("reason")
    if reason:
        return lines + [f"    {line}" for line in str(reason).splitlines()]
    figures = [
        f"{key}={value}"
        for key, value in check.metadata.items()
        if isinstance(value, int | float | bool) or (isinstance(value, str) and len(value) < 60)
    ]
    examples = check.metadata.get("examples") or check.metadata.get("missing_examples")
    if isinstance(examples, list) and examples:
        figures.append("examples " + " ".join(map(str, examples[:3])))
    return [*lines, "    " + ", ".join(figures)] if figures else lines


def _counts_statement() -> sql.Composed:
    """Rows of every table the registry knows, then the raw events and the quarantine, and
    whether the analytics views exist (a row `analytics`, 1): one round trip."""
    tables = [t.name for t in all_tables()] + ["jobnimbus_raw_events", "jobnimbus_quarantine"]
    return sql.SQL(" UNION ALL ").join(
        [sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(t), sql.Identifier(t))
         for t in tables]
        + [sql.SQL("SELECT 'analytics', (to_regclass('analytics.revenue_by_month') IS NOT NULL)"
                   "::int::bigint")]
    )  # fmt: skip


def _money(value: Any) -> str:
    return f"${float(value or 0):,.2f}"


def summarize(env: Environment, outcome: Outcome, seconds: float) -> str:
    """Rows, checks and headline numbers; after a failure only what failed (no stale figures)."""
    head = (
        f"gcc run {'finished' if outcome.success else 'FAILED'} in {seconds:.1f} s "
        f"(Dagster run {outcome.run_id[:8]} of {JOB}; `gcc dev` shows it)"
    )
    failed = [line for check in outcome.failed_checks for line in check_lines(check)]
    if not outcome.success:
        return "\n".join(["", head, *(f"  {e}" for e in outcome.errors), *failed])
    lines = ["", head, "", "rows per table:", f"  {'table':<26}{'rows':>12}"]
    with borrowed(env.target.warehouse_url) as conn:
        conn.autocommit = True  # reads only
        with conn.cursor() as cur:
            cur.execute(_counts_statement())
            counts = cur.fetchall()
            analytics = ("analytics", 1) in counts
            lines += [f"  {name:<26}{n:>12,}" for name, n in counts if name != "analytics"]
            passed = sum(c.passed for c in outcome.checks)
            lines += ["", f"checks: {passed} passed, {len(outcome.failed_checks)} failed", *failed]
            if outcome.not_materialized:
                lines += [
                    "",
                    "not refreshed (blocked or failed): " + ", ".join(outcome.not_materialized),
                ]
            if analytics:
                cur.execute(query("summary"))
                parts = cur.fetchall()
                lines += ["", "revenue, last months (net payments):",
                          f"  {'month':<9}{'revenue':>16}  {'payments':>8}"]  # fmt: skip
                lines += [f"  {m:<7}  {_money(r):>16}  {n:>8}"
                          for part, m, r, n in parts if part == "revenue"]  # fmt: skip
                lines += ["", "pipeline by stage (active jobs):",
                          f"  {'stage':<30}{'jobs':>8}  {'approved estimates':>18}"]  # fmt: skip
                lines += [
                    f"  {_stage_label(s):<30}{n:>8,}  {_money(v):>18}"
                    for part, s, v, n in parts
                    if part == "pipeline"
                ]
    return "\n".join(lines)


def _stage_label(stage: str | None) -> str:
    """The mapping's stage "None" (outside the funnel) must not read like a missing value."""
    if stage is None:
        return "(unmapped)"
    return "None (outside the funnel)" if stage == "None" else stage
