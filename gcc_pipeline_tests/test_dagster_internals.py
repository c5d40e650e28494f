"""The Dagster internals gcc_pipeline/instance.py overrides or calls still exist and still mean
what the overrides assume: an upgrade that renames or reshapes one fails here, not silently (an
override of a method Dagster no longer calls is dead code; a reshaped one breaks at run time)."""

import inspect
import time
from collections.abc import Iterator

import pytest
import sqlalchemy
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    asset,
    asset_check,
    materialize,
)
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage

from gcc_pipeline.instance import GccEventLogStorage, GccRunStorage, GccScheduleStorage
from gcc_pipeline.warehouse.urls import for_sqlalchemy
from gcc_pipeline_tests.conftest import create_database, drop_database

STORAGES = [
    (GccRunStorage, PostgresRunStorage),
    (GccEventLogStorage, PostgresEventLogStorage),
    (GccScheduleStorage, PostgresScheduleStorage),
]
#: What each storage overrides, besides its SCHEMA_CHECKS, and the Dagster members it calls.
OVERRIDES = {
    GccRunStorage: {"_has_snapshot_id", "_get_snapshot"},
    GccEventLogStorage: {"store_event", "store_event_batch", "dispose"},
    GccScheduleStorage: {"connect"},
}
CALLED = {
    GccRunStorage: {"_engine"},
    GccEventLogStorage: {
        "_engine",
        "_connect",
        "index_connection",
        "prepare_insert_event_batch",
        "_store_asset_event_tags",
        "_store_asset_event",
        "store_asset_check_event",
        "has_secondary_index",
        "_get_asset_entry_values",
        "_event_insert_timestamp",
        "_get_asset_check_partition_filter_clause",
        "_update_asset_check_evaluation",
    },
    GccScheduleStorage: {"_engine", "_init_db", "should_autocreate_tables"},
}
OURS = {
    "_kwargs", "_make_tables", "_planned_check_rows", "from_config_value", "config_type",
    "flush_held", "_hold", "_insert", "_store_check_evaluation",
}  # fmt: skip


def _parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize(("ours", "base"), STORAGES, ids=lambda c: c.__name__)
def test_every_method_a_storage_overrides_is_one_dagster_postgres_has_with_the_same_parameters(
    ours: type, base: type
) -> None:
    overridden = OVERRIDES[ours] | set(ours.SCHEMA_CHECKS)
    defined = {n for n, v in vars(ours).items() if callable(v) and not n.startswith("__")}
    assert defined - OURS - overridden == set(), "a new override: list it in OVERRIDES"
    for name in sorted(overridden):
        assert hasattr(base, name), f"{base.__name__}.{name} is gone: {ours.__name__} overrides it"
        mine, theirs = getattr(ours, name), getattr(base, name)
        assert _parameters(mine) in (_parameters(theirs), ["self", "args"]), name


@pytest.mark.parametrize(("ours", "base"), STORAGES, ids=lambda c: c.__name__)
def test_every_dagster_member_a_storage_calls_still_exists(ours: type, base: type) -> None:
    storage = base.__new__(base)  # instance attributes are set in __init__: read its source
    source = inspect.getsource(base.__init__) + inspect.getsource(base)
    missing = {
        name for name in CALLED[ours]
        if not hasattr(storage, name) and f"self.{name} =" not in source
    }  # fmt: skip
    assert missing == set()


# -- the planned events of a range run, stored in one batch, leave what Dagster's own path does --

PLANNED = (
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
)
DAYS = DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-06")


@asset(partitions_def=DAYS)
def planned_daily() -> None:
    """A partitioned asset whose range run plans one materialization per day."""


@asset_check(asset=planned_daily)
def planned_daily_check() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


@pytest.fixture
def two_databases(pg_server_url: str) -> Iterator[tuple[str, str]]:
    urls = (create_database(pg_server_url, "gcc_ev"), create_database(pg_server_url, "gcc_ev"))
    yield urls
    for url in urls:
        drop_database(pg_server_url, url)


def _planned_events() -> list:
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [planned_daily, planned_daily_check], instance=instance,
            tags={"dagster/asset_partition_range_start": "2026-01-01",
                  "dagster/asset_partition_range_end": "2026-01-05"},
        )  # fmt: skip
        assert result.success
        planned = [e for e in instance.all_logs(result.run_id) if e.dagster_event_type in PLANNED]
    assert {e.dagster_event_type for e in planned} == set(PLANNED)
    return planned


def _rows(url: str, table: str, leave_out: set[str]) -> list[tuple]:
    engine = sqlalchemy.create_engine(for_sqlalchemy(url))
    try:
        columns = [c["name"] for c in sqlalchemy.inspect(engine).get_columns(table)]
        kept = [c for c in columns if c not in leave_out]
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text(f"SELECT {', '.join(kept)} FROM {table}"))
            return sorted(tuple(map(str, row)) for row in rows)
    finally:
        engine.dispose()


def test_a_range_runs_planned_events_stored_in_one_batch_leave_the_rows_dagster_postgres_leaves(
    two_databases: tuple[str, str],
) -> None:
    events = _planned_events()
    ours_url, theirs_url = two_databases
    for cls, url in ((GccEventLogStorage, ours_url), (PostgresEventLogStorage, theirs_url)):
        storage = cls(postgres_url=for_sqlalchemy(url))
        try:
            for kind in PLANNED:  # as Dagster batches them: one kind at a time
                storage.store_event_batch([e for e in events if e.dagster_event_type == kind])
        finally:
            storage.dispose()
    stamps = {"id", "create_timestamp", "updated_timestamp"}
    for table in ("event_logs", "asset_keys", "asset_check_executions"):
        ours = _rows(ours_url, table, stamps)
        assert ours, table
        assert ours == _rows(theirs_url, table, stamps), table


# -- log lines and notices are held briefly and written with the next event --


@asset
def logged(context: AssetExecutionContext) -> None:
    context.log.info("a line of the step's own")


@asset_check(asset=logged)
def logged_check() -> AssetCheckResult:
    return AssetCheckResult(passed=False)


def _run_events() -> list:
    with DagsterInstance.ephemeral() as instance:
        result = materialize([logged, logged_check], instance=instance)
        return instance.all_logs(result.run_id)


def _stored(url: str) -> list[tuple[str, str]]:
    """(event type or LOG, message) of every stored event, in the order of their ids."""
    engine = sqlalchemy.create_engine(for_sqlalchemy(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text(
                "SELECT coalesce(dagster_event_type, 'LOG'), event::json->>'user_message' "
                "FROM event_logs ORDER BY id"))  # fmt: skip
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def _described(events: list) -> list[tuple[str, str]]:
    return [(e.dagster_event_type.value if e.dagster_event_type else "LOG", e.user_message)
            for e in events]  # fmt: skip


@pytest.fixture
def events_storage(empty_db_url: str) -> Iterator[GccEventLogStorage]:
    storage = GccEventLogStorage(postgres_url=for_sqlalchemy(empty_db_url))
    storage.HOLD_SECONDS = 3600  # held until the next event, whatever the machine's pace
    yield storage
    storage.dispose()


def test_a_runs_events_stored_one_by_one_are_all_kept_in_their_order(
    events_storage: GccEventLogStorage, empty_db_url: str
) -> None:
    events = _run_events()
    held = [e for e in events if not e.is_dagster_event or e.dagster_event_type in (
        DagsterEventType.STEP_OUTPUT, DagsterEventType.RESOURCE_INIT_STARTED)]  # fmt: skip
    assert held, "the run logs lines and notices"
    for event in events:
        events_storage.store_event(event)
    assert _stored(empty_db_url) == _described(events)  # the last one ends the run: none held


def test_a_log_line_waits_for_the_next_event_and_is_written_before_it(
    events_storage: GccEventLogStorage, empty_db_url: str
) -> None:
    events = _run_events()
    line = next(e for e in events if not e.is_dagster_event)
    outcome = next(
        e for e in events if e.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION
    )
    events_storage.store_event(line)
    assert _stored(empty_db_url) == []
    events_storage.store_event(outcome)
    assert _stored(empty_db_url) == _described([line, outcome])


def test_a_held_line_is_written_when_its_time_is_up_or_the_storage_is_disposed(
    events_storage: GccEventLogStorage, empty_db_url: str
) -> None:
    line = next(e for e in _run_events() if not e.is_dagster_event)
    events_storage.store_event(line)
    events_storage.dispose()
    assert _stored(empty_db_url) == _described([line])
    soon = GccEventLogStorage(postgres_url=for_sqlalchemy(empty_db_url))
    soon.HOLD_SECONDS = 0.05
    try:
        soon.store_event(line)
        deadline = time.monotonic() + 30
        while len(_stored(empty_db_url)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # ok: waits for the timer's write, bounded by the deadline
        assert _stored(empty_db_url) == _described([line, line])
    finally:
        soon.dispose()


def test_a_runs_events_stored_one_by_one_leave_the_rows_dagster_postgres_leaves(
    two_databases: tuple[str, str],
) -> None:
    events = _run_events()  # a materialization and a check's evaluation among them
    assert DagsterEventType.ASSET_CHECK_EVALUATION in {e.dagster_event_type for e in events}
    ours_url, theirs_url = two_databases
    for cls, url in ((GccEventLogStorage, ours_url), (PostgresEventLogStorage, theirs_url)):
        storage = cls(postgres_url=for_sqlalchemy(url))
        try:
            for event in events:
                storage.store_event(event)
        finally:
            storage.dispose()
    stamps = {"id", "create_timestamp", "updated_timestamp"}
    for table in ("event_logs", "asset_keys", "asset_check_executions", "asset_event_tags"):
        ours = _rows(ours_url, table, stamps)
        assert ours or table == "asset_event_tags", table
        assert ours == _rows(theirs_url, table, stamps), table
