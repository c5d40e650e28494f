"""One step lands every JobNimbus stream: raw payloads into jobnimbus_raw_events, rows into each
stream's table, in one pass per page, with the windows of all streams fetched concurrently.

It is one subsettable multi-asset: `jobnimbus_raw_events` and one spec per stream table, so the
lineage reads API -> raw events -> tables, and any selection (one table, a group, everything)
launches. A run writes exactly what it records: a selected table loads the streams that feed it
(and only those; records they reference are fetched by id only into tables this load writes),
their raw payloads land with them, and every table written is recorded, as the step's output when
selected and otherwise as a materialization event of its own saying why (the raw events alone
load every stream, so every table is written and recorded). The checks of the selected tables run
in the same step.
"""

import functools
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    Backoff,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)
from psycopg2 import sql

from gcc_pipeline import clock
from gcc_pipeline.assets.conventions import table_spec
from gcc_pipeline.assets.downstream import owed
from gcc_pipeline.checks import checks_on, evaluate
from gcc_pipeline.jobnimbus import AuthError, JobNimbusResource, NotFoundError
from gcc_pipeline.markdown import md_table
from gcc_pipeline.partitions import (
    MonthIndex,
    backfill_policy,
    beta_parameters,
    latest_window,
    monthly_partitions,
)
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.streams import STREAMS, Stream, Table, stream_tables, streams_of
from gcc_pipeline.sync.load import Load, StreamResult
from gcc_pipeline.sync.plan import StreamPlan, by_count, plan_stream
from gcc_pipeline.sync.state import read_states
from gcc_pipeline.warehouse.landing import LandingStats
from gcc_pipeline.warehouse.queries import query
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline.webhooks import run as webhook_run
from gcc_pipeline.webhooks.storage import KEEP_DAYS, mark_processed, purge

RAW_EVENTS = "jobnimbus_raw_events"
EXTRA_DEPS = {"jobs": ["workflow_status_lookup"]}  # the stage lookup jobs are staged with


class IngestConfig(Config):
    """How far back each stream is fetched (editable in the launchpad)."""

    incremental: bool = False  # True: from each stream's high-water mark, not whole partitions
    since: str | None = None  # an ISO date or time: fetch from there (`gcc run --since`)
    overlap_minutes: int = 60  # incremental runs re-read this much before the high-water mark
    # Where streams' records begin, when whoever launched the run asked already (`gcc run`):
    # stream -> ISO time of its oldest record, '' for none. Other streams are asked here.
    oldest: dict[str, str] = {}
    # A webhook run (the webhook sensor's): the records named by the received webhooks with ids
    # in (webhooks_after, webhooks_through], fetched by id instead of windows; no mark moves.
    webhooks_after: int = 0
    webhooks_through: int = 0


def _specs() -> list[AssetSpec]:
    raw = table_spec(
        RAW_EVENTS,
        group="raw",
        layer="raw",
        note="Recorded when every stream was loaded.",
    )
    tables = [
        table_spec(
            t.name,
            group="normalized",
            layer="normalized",
            deps=[RAW_EVENTS, *EXTRA_DEPS.get(t.name, [])],
            description=t.description,
        )
        for t in stream_tables()
    ]
    return [raw, *tables]


SPECS = _specs()
CHECKS = checks_on([RAW_EVENTS, *(t.name for t in stream_tables())])


def selected_streams(keys: set[AssetKey]) -> tuple[Stream, ...]:
    """The streams feeding the selected tables; the raw events alone: every stream (a payload
    lands with its table, so those tables are written, and recorded, too)."""
    tables = tuple(s for s in STREAMS if AssetKey(s.table.name) in keys)
    return tables or (STREAMS if AssetKey(RAW_EVENTS) in keys else ())


def written_keys(streams: Sequence[Stream]) -> list[AssetKey]:
    """What loading these streams writes: the raw events and each of their tables."""
    tables = [t.name for t in stream_tables() if any(s.table == t for s in streams)]
    return [AssetKey(RAW_EVENTS), *(AssetKey(t) for t in tables)] if streams else []


def _floor(account: AccountResource) -> datetime:
    return datetime.combine(
        date.fromisoformat(account.start_date), time(), ZoneInfo(account.timezone)
    )


def _plans(
    context: AssetExecutionContext,
    config: IngestConfig,
    streams: Sequence[Stream],
    jobnimbus: JobNimbusResource,
    warehouse: WarehouseResource,
    account: AccountResource,
) -> list[StreamPlan]:
    run = context.partition_time_window
    includes_latest = run.end >= latest_window().end
    since = None
    if config.since:
        since = datetime.fromisoformat(config.since)
        if since.tzinfo is None:
            since = since.replace(tzinfo=ZoneInfo(account.timezone))
    with warehouse.connection() as conn:
        states = read_states(conn)
    plan = functools.partial(
        plan_stream, run=run, includes_latest=includes_latest, floor=_floor(account),
        incremental=config.incremental, since=since,
        overlap=timedelta(minutes=config.overlap_minutes), now=clock.now(),
    )  # fmt: skip
    plans = [plan(s, state=states.get(s.name)) for s in streams]
    if all(len(p.windows) <= 1 for p in plans):
        return plans  # a catch-up: one window each, nothing to save
    # Two requests each, at once: where records begin (no window before), and how many the span
    # holds (windows follow the records, so pages are full, not one partial page a month).
    asked = [p for p in plans if len(p.windows) > 1]
    known = {
        name: (bool(at), datetime.fromisoformat(at) if at else None)
        for name, at in config.oldest.items()
    }
    answers = jobnimbus.probe(
        [(p.stream, p.windows[0].start, p.windows[-1].end) for p in asked], known=known
    )
    probed = {p.stream.name: answer for p, answer in zip(asked, answers, strict=True)}
    now = clock.now()
    return [
        by_count(plan(p.stream, state=states.get(p.stream.name), oldest=probed[p.stream.name][0]),
                 probed[p.stream.name][1], now)
        if p.stream.name in probed else p
        for p in plans
    ]  # fmt: skip


def _partition_metadata(results: Sequence[StreamResult], months: Sequence[str]) -> dict[str, dict]:
    """Each month of the run gets its own counts on its materialization: the records of that
    month landed, and the windows that began in it (a window follows the records, not months)."""
    counts: dict[str, list[int]] = {}
    windows: dict[str, list[str]] = {}
    for result in results:
        for month, (fetched, quarantined) in result.stats.by_month.items():
            total = counts.setdefault(month, [0, 0])
            total[0] += fetched
            total[1] += quarantined
        for w in (*result.windows, *result.by_id):
            windows.setdefault(w.window.partition_key, []).append(
                f"{w.window.stream.name} {w.window.describe()}: {w.stats.fetched} records, "
                f"{w.requests} requests"
            )
    return {
        month: {
            "fetched": counts.get(month, [0, 0])[0],
            "quarantined": counts.get(month, [0, 0])[1],
            "windows": "; ".join(windows.get(month, []))
            or "none began in this month (records of it may come with an earlier window)",
        }
        for month in months
    }


def _record(
    context: AssetExecutionContext, result: MaterializeResult, results: Sequence[StreamResult]
) -> Iterator[MaterializeResult]:
    """A selected key as the step's output; a key written but not selected as materialization
    events of its own (one per month), so the lineage shows every table the run wrote."""
    key = result.asset_key
    assert key is not None
    months = _partition_metadata(results, context.partition_keys)
    if key in context.selected_asset_keys:
        for month, metadata in months.items():
            context.add_asset_metadata(metadata, asset_key=key, partition_key=month)
        yield result
        return
    note = {"recorded_because": "written by a run that selected " + ", ".join(
        sorted(k.to_user_string() for k in context.selected_asset_keys))}  # fmt: skip
    for month, metadata in months.items():
        context.log_event(
            AssetMaterialization(
                asset_key=key, partition=month,
                metadata={**(result.metadata or {}), **metadata, **note},
            )
        )  # fmt: skip


def _table_result(table: Table, results: Sequence[StreamResult], rows: int) -> MaterializeResult:
    total = LandingStats()
    for r in results:
        total.add(r.stats)
    # Each month's event carries its own counts (_partition_metadata); run_* are the whole run's.
    metadata: dict[str, object] = {
        **{f"run_{k}": v for k, v in total.as_metadata().items()},
        "run_requests": sum(r.requests for r in results),
        "run_retries": sum(r.retries for r in results),
        "fetched_from": "; ".join(f"{r.plan.stream.name}: {r.plan.reason}" for r in results),
        "run_fetched_by_id": sum(r.referenced_fetched for r in results),
        "high_water_mark": "; ".join(
            f"{r.plan.stream.name}: {r.state.high_water_mark.isoformat()}"
            for r in results
            if r.state and r.state.high_water_mark
        )
        or "(not advanced by this run)",
        "dagster/row_count": rows,
    }
    if total.reasons:
        metadata["quarantine_reasons"] = MetadataValue.md(
            md_table(["reason", "records"], sorted(total.reasons.items()))
        )
    return MaterializeResult(asset_key=AssetKey(table.name), metadata=metadata)


def _raw_result(results: Sequence[StreamResult]) -> MaterializeResult:
    rows = [
        (r.plan.stream.name, r.plan.reason, r.stats.fetched, r.stats.raw_inserted, r.requests,
         r.retries, f"{r.waited_seconds:.1f}")
        for r in results
    ]  # fmt: skip
    return MaterializeResult(
        asset_key=AssetKey(RAW_EVENTS),
        metadata={
            "run_fetched": sum(r.stats.fetched for r in results),
            "run_raw_inserted": sum(r.stats.raw_inserted for r in results),
            "run_requests": sum(r.requests for r in results),
            "run_retries": sum(r.retries for r in results),
            "streams": MetadataValue.md(
                md_table(
                    [
                        "stream",
                        "fetched from",
                        "fetched",
                        "new payloads",
                        "requests",
                        "retries",
                        "waited for another run (s)",
                    ],
                    rows,
                )
            ),
        },
    )


def _counts(conn: Any, tables: Sequence[str]) -> dict[str, int]:
    """Rows of each table, in one statement."""
    if not tables:
        return {}
    statement = sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(t)) for t in tables
        )
    )
    with conn.cursor() as cur:
        cur.execute(statement)
        return dict(zip(tables, cur.fetchone(), strict=True))


def _changed(results: Sequence[StreamResult]) -> set[str]:
    """The tables (and the raw events) this load changed: what the checks need to look at."""
    changed: set[str] = set()
    for result in results:
        s = result.stats
        if s.raw_inserted:
            changed.add(RAW_EVENTS)
        if s.inserted or s.updated or s.quarantined or s.raw_inserted:
            changed.add(result.plan.stream.table.name)
    return changed


def _webhook_plan(
    context: AssetExecutionContext,
    config: IngestConfig,
    streams: Sequence[Stream],
    warehouse: WarehouseResource,
) -> webhook_run.WebhookPlan | None:
    """A webhook run's plan: the records its range of received webhooks names; None otherwise."""
    if config.webhooks_through <= config.webhooks_after:
        return None
    with warehouse.connection() as conn:
        return webhook_run.plan(
            conn, streams, after=config.webhooks_after, through=config.webhooks_through,
            now=clock.now(), partition_key=context.partition_keys[-1],
        )  # fmt: skip


def _finish_webhooks(
    context: AssetExecutionContext,
    config: IngestConfig,
    streams: Sequence[Stream],
    warehouse: WarehouseResource,
    load: Load,
    hooks: webhook_run.WebhookPlan,
) -> list[str]:
    """After the named records landed: those a deleted-record webhook named and the API no
    longer lists marked inactive, then the range's events marked processed. Returns the tables
    rows were marked inactive in."""
    gone = {
        name: [i for i in ids if i not in load.seen.get(name, set())]
        for name, ids in hooks.deleted.items()
    }
    run_id = context.run.run_id
    with warehouse.connection() as conn:
        changed = webhook_run.mark_gone(conn, streams, gone)
        if changed:
            with conn, conn.cursor() as cur:
                cur.execute(query("mark_changed"), {"tables": changed, "run_id": run_id})
        done = mark_processed(conn, config.webhooks_after, config.webhooks_through, run_id)
        purged = purge(conn)
    marked = sum(len(v) for v in gone.values())
    ignored = ", ".join(f"{k}: {n}" for k, n in sorted(hooks.ignored.items()))
    context.log.info(
        f"webhooks {config.webhooks_after + 1}..{config.webhooks_through}: {done} events "
        f"processed, {hooks.records} records named, {marked} marked gone"
        + (f"; types no stream copies: {ignored}" if ignored else "")
        + (f"; {purged} events processed over {KEEP_DAYS} days ago purged" if purged else "")
    )
    return list(changed or [])


def _log_plans(context: AssetExecutionContext, plans: Sequence[StreamPlan]) -> None:
    lines = [
        f"{p.stream.name}: {len(p.windows)} window(s), {p.reason}"
        + ("" if p.windows or p.reason.startswith("webhooks") else " (nothing to fetch)")
        for p in plans
    ]
    context.log.info(f"fetching {len(plans)} stream(s)\n" + "\n".join(lines))


def _records_nothing(
    context: AssetExecutionContext,
    config: IngestConfig,
    conn: Any,
    changed: set[str],
    account: AccountResource,
) -> bool:
    """Whether this run records no table: a catch-up (or webhook run) whose load changed
    nothing, of a month already recorded, after which nothing is owed (downstream.py). Then the
    steps after it are skipped and the run stores events only for its checks and its steps."""
    catch_up = config.incremental or config.webhooks_through > config.webhooks_after
    if not catch_up or changed or len(context.partition_keys) != 1:
        return False
    if reasons := owed(conn, account.timezone):
        context.log.info("nothing changed, recorded all the same: " + "; ".join(reasons))
        return False
    latest = context.instance.get_latest_materialization_event(AssetKey(RAW_EVENTS))
    recorded = latest.asset_materialization if latest else None
    return bool(recorded and (recorded.partition or "") >= context.partition_key)


def _log_results(
    context: AssetExecutionContext, results: Sequence[StreamResult], quiet: bool
) -> None:
    lines = []
    for r in results:
        by_id = (
            f", {r.referenced_fetched} of them by id (named by webhooks or referenced by other "
            "rows)"
            if r.by_id
            else ""
        )
        lines.append(
            f"{r.plan.stream.name}: {r.stats.describe()} "
            f"({r.requests} requests, {len(r.windows)} windows{by_id})"
        )
    total = sum(r.stats.fetched for r in results)
    requests = sum(r.requests for r in results)
    note = (
        "; nothing changed and nothing is owed: no table recorded, the steps after the load "
        "are skipped"
        if quiet
        else ""
    )
    context.log.info(f"landed {total} records in {requests} requests{note}\n" + "\n".join(lines))


with beta_parameters():

    @multi_asset(
        name="jobnimbus",
        specs=SPECS,
        check_specs=[c.spec() for c in CHECKS],
        partitions_def=monthly_partitions,
        backfill_policy=backfill_policy,
        can_subset=True,
        # Landing is idempotent: a retry after a dropped connection redoes what did not commit
        # (the client already retried each request; a rejected key is never retried).
        retry_policy=RetryPolicy(max_retries=1, delay=15, backoff=Backoff.EXPONENTIAL),
    )
    def jobnimbus(
        context: AssetExecutionContext,
        config: IngestConfig,
        jobnimbus: JobNimbusResource,
        warehouse: WarehouseResource,
        account: AccountResource,
    ) -> Iterator[MaterializeResult]:
        selected = set(context.selected_asset_keys)
        streams = selected_streams(selected)
        landed: dict[str, StreamResult] = {}
        gone: list[str] = []  # tables a webhook run marked rows of inactive in
        if streams:
            try:
                hooks = _webhook_plan(context, config, streams, warehouse)
                if hooks is None:
                    plans = _plans(context, config, streams, jobnimbus, warehouse, account)
                else:
                    plans = hooks.plans
                _log_plans(context, plans)
                load = Load(
                    plans, jobnimbus=jobnimbus, connection=warehouse.connection,
                    months=MonthIndex(context.partition_keys).key,
                    run_id=context.run.run_id, floor=_floor(account),
                    named=hooks.named if hooks else None,
                )  # fmt: skip
                for result in load.run():
                    landed[result.plan.stream.name] = result
                if hooks is not None:
                    gone = _finish_webhooks(context, config, streams, warehouse, load, hooks)
            except (AuthError, NotFoundError) as exc:
                raise Failure(str(exc), allow_retries=False) from None
        changed = _changed(list(landed.values())) | set(gone) if streams else None
        with warehouse.connection() as conn:
            conn.autocommit = True  # counts and checks: reads, one statement each
            quiet = streams and _records_nothing(context, config, conn, changed, account)
            if streams:
                _log_results(context, list(landed.values()), quiet)
            if streams and not quiet:
                # Raw events first: a multi-asset yields its specs in dependency order. Every
                # key the load wrote is recorded, selected or not (see _record).
                loaded = [landed[s.name] for s in streams]
                yield from _record(context, _raw_result(loaded), loaded)
                tables = [t for t in stream_tables() if AssetKey(t.name) in written_keys(streams)]
                rows = _counts(conn, [t.name for t in tables])
                for table in tables:
                    members = [landed[m.name] for m in streams_of(table) if m.name in landed]
                    yield from _record(
                        context, _table_result(table, members, rows[table.name]), members
                    )
            yield from evaluate(
                context,
                conn,
                CHECKS,
                freshness_hours=account.freshness_hours,
                landed_streams=landed,
                changed=changed,
            )
