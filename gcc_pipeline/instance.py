"""The Dagster instance classes dagster.yaml names: storage and logs under GCC_HOME, found without
any variable exported, and a run launcher that notices dead run workers.

`dagster dev`, `dagster-daemon run` and the run workers read dagster.yaml; each storage here
resolves the same PostgreSQL `gcc` uses (POSTGRES_URL / DAGSTER_POSTGRES_URL, else the embedded
server under GCC_HOME, started if needed), so the UI opened by hand shows the runs of `gcc run`.
"""

import atexit
import functools
import os
import socket
import threading
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager as ContextManager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy
from dagster import DagsterEventType, DagsterInstance, EventLogEntry
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, DagsterRun, RunsFilter
from dagster._core.storage.event_log.base import PartitionKeyFilter
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    AssetKeyTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sql_event_log import ASSET_KEY_INDEX_COLS
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.storage.root import LocalArtifactStorage
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import retry_pg_connection_fn, retry_pg_creation_fn
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

from gcc_pipeline.settings import enable_dagster_event_batching, load_settings
from gcc_pipeline.warehouse.urls import for_sqlalchemy, with_application

POOL_RECYCLE_SECONDS = 600  # a connection older than this is replaced at its next use
POOL_SIZE = 4  # connections kept: a storage call made inside another reuses one
POOL_OVERFLOW = 10  # beyond those, for the daemon's threads; closed after use

_TABLES_CHECK = threading.RLock()  # re-entrant: making the tables connects through connect()
_PLANNED = {
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
}
#: Dagster events that report and change nothing a run or the UI acts on at once: a step's start,
#: success or skip, its outputs, resource and engine notices (a failure is never held).
_NOTICES = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.STEP_OUTPUT,
    DagsterEventType.STEP_INPUT,
    DagsterEventType.HANDLED_OUTPUT,
    DagsterEventType.LOADED_INPUT,
    DagsterEventType.LOGS_CAPTURED,
    DagsterEventType.RESOURCE_INIT_STARTED,
    DagsterEventType.RESOURCE_INIT_SUCCESS,
    DagsterEventType.ENGINE_EVENT,
}


def _flush_at_exit(storage: "weakref.ref[GccEventLogStorage]") -> None:
    if (alive := storage()) is not None:
        alive.flush_held()


def _holdable(event: EventLogEntry) -> bool:
    """A log line or a notice: nothing waits for it (the UI shows it within HOLD_SECONDS)."""
    return not event.is_dagster_event or event.dagster_event_type in _NOTICES


# Every process that loads this instance stores a range run's per-partition events in batches.
enable_dagster_event_batching()


@cache
def storage_url() -> str:
    """Dagster's own database (never the warehouse: Dagster has a `jobs` table of its own)."""
    settings = load_settings()
    if settings.dagster_storage_url:  # resolved by the `gcc` process that started this one
        return settings.dagster_storage_url
    from gcc_pipeline.environment import dagster_database

    return for_sqlalchemy(dagster_database(settings))


def dagster_home() -> Path:
    home = load_settings().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    return home


class _FoundWithoutConfig:
    """dagster.yaml names these classes without any config: each builds itself from `_kwargs`."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict):
        return cls(inst_data=inst_data, **cls._kwargs())

    #: application_name of this storage's connections (pg_stat_activity, the bench's counts)
    application = "gcc-dagster"

    @classmethod
    def _kwargs(cls) -> dict:
        return {"postgres_url": with_application(storage_url(), cls.application)}


class _Pooled(_FoundWithoutConfig):
    """A storage that keeps its connections and asks about its schema once.

    dagster-postgres opens a connection per query by default (over a hosted PostgreSQL each costs
    several round trips: TCP, TLS, authentication, session settings) while a run stores hundreds
    of events, and it reflects the schema (has this table, that column?) on every event. The pool
    holds a few connections, so a storage call made inside another reuses one instead of opening
    and discarding an overflow connection, and sets no per-connection statement timeout (zero
    means none anyway). Webservers replace this pool with their own (`optimize_for_webserver`).
    """

    #: methods that only inspect the schema Dagster migrated: their answers are kept per storage
    SCHEMA_CHECKS: tuple[str, ...] = ()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict):
        storage = super().from_config_value(inst_data, config_value)
        # Keep the engine dagster-postgres made (its dialect asks for the server's version and
        # settings once, seven round trips), give it a pool. The pool keeps the engine's
        # listeners, as SQLAlchemy's own Pool.recreate does: a storage that has not met the
        # server yet (the schedules') initializes its dialect at its first connection.
        engine = storage._engine
        engine.pool = QueuePool(
            engine.pool._creator, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
            recycle=POOL_RECYCLE_SECONDS, dialect=engine.dialect, _dispatch=engine.pool.dispatch,
        )  # fmt: skip
        storage._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        return storage

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.SCHEMA_CHECKS:
            setattr(cls, name, _remembered(getattr(cls, name)))


def _remembered(method: Callable[..., bool]) -> Callable[..., bool]:
    """The method's answer per (method, its text arguments), kept on the storage: the schema of
    Dagster's tables only changes through `dagster instance migrate`, a process of its own."""

    @functools.wraps(method)
    def remembered(self: object, *args: object) -> bool:
        facts = self.__dict__.setdefault("_gcc_schema_facts", {})
        key = (method.__name__, *(a for a in args if isinstance(a, str)))
        if key not in facts:
            facts[key] = method(self, *args)
        return facts[key]

    return remembered


class GccRunStorage(_Pooled, PostgresRunStorage):
    """Remembers the snapshots it has read or found: a snapshot's id is the hash of its content,
    and launching a run asks for the same job snapshot twice and for its existence twice."""

    application = "gcc-dagster-runs"
    SCHEMA_CHECKS = (
        "has_run_stats_index_cols", "has_bulk_actions_selector_cols", "has_backfill_id_column",
        "has_bulk_action_job_name_column", "has_backfill_tags_table",
    )  # fmt: skip
    SNAPSHOTS_KEPT = 16

    def _has_snapshot_id(self, snapshot_id: str) -> bool:
        known = self.__dict__.setdefault("_gcc_snapshot_ids", set())
        if snapshot_id not in known and super()._has_snapshot_id(snapshot_id):
            known.add(snapshot_id)  # only found ones: one not stored yet is added next
        return snapshot_id in known

    def _get_snapshot(self, snapshot_id: str) -> Any:
        kept = self.__dict__.setdefault("_gcc_snapshots", {})
        if snapshot_id not in kept:
            found = super()._get_snapshot(snapshot_id)
            if found is None:
                return None
            if len(kept) >= self.SNAPSHOTS_KEPT:
                kept.pop(next(iter(kept)))
            kept[snapshot_id] = found
        return kept[snapshot_id]


class GccEventLogStorage(_Pooled, PostgresEventLogStorage):
    """Stores a run's events in fewer statements than dagster-postgres, one round trip apiece on
    a hosted database:

    - the planned events (one per partition of each asset, hundreds for a range run) in one
      INSERT, where dagster-postgres writes them one at a time, about eight statements each;
    - the events nothing reads back (log lines, a step's start, success or skip, "yielded
      output", resource and engine notices) held for at most HOLD_SECONDS and written in the
      INSERT of the next event; a failure, an asset's or check's event and a run's start and
      end are never held, so the UI and `gcc run` see each within HOLD_SECONDS.

    As Dagster's own batch of materializations does, the asset index gets each asset's last
    event only."""

    application = "gcc-dagster-events"
    SCHEMA_CHECKS = ("has_table", "_has_asset_key_col_on_connection")
    HOLD_SECONDS = 0.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gcc_held: list[EventLogEntry] = []
        self._gcc_held_lock = threading.RLock()  # also keeps the ids in the order of the events
        atexit.register(_flush_at_exit, weakref.ref(self))  # not kept alive for it

    def store_event(self, event: EventLogEntry) -> None:
        """dagster-postgres's, without the NOTIFY it sends after every event "to support version
        skew" (nothing listens since event watching polls), with the asset index written in
        autocommit (four round trips less per materialization) and the held events before it."""
        with self._gcc_held_lock:
            if _holdable(event):
                self._hold(event)
                return
            if event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION and event.run_id:
                self._store_check_evaluation(event)
                return
            event_id = self._insert([event])[-1]
        asset_event = event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS
        if asset_event and event.dagster_event and event.dagster_event.asset_key:
            # Autocommit, not a READ COMMITTED transaction (three more round trips: BEGIN,
            # COMMIT and resetting the isolation level): the tags and the asset index row are
            # idempotent upserts that need no atomicity between them.
            with self.index_connection() as conn:
                self._store_asset_event_tags(conn, [event], [event_id])
                self._store_asset_event(conn, event, event_id)
        if event.is_dagster_event and event.dagster_event_type in ASSET_CHECK_EVENTS:
            self.store_asset_check_event(event, event_id)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """A run's planned events in three statements, however many assets, partitions and
        checks it plans: the events, each asset's index row (its last planned event) and the
        planned check executions. A batch of one asset's materializations (one per partition)
        as dagster-postgres stores it, with the held events in its INSERT and its index rows
        in autocommit."""
        kinds = {e.dagster_event_type for e in events}
        if events and kinds == {DagsterEventType.ASSET_MATERIALIZATION}:
            events = [e for e in events if not e.get_dagster_event().is_asset_failed_to_materialize]
            if events:
                ids = self._insert(events)
                with self.index_connection() as conn:
                    self._store_asset_event_tags(conn, events, ids)
                    self._store_asset_event(conn, events[-1], ids[-1])
            return
        if not events or not kinds <= _PLANNED:
            self.flush_held()
            return super().store_event_batch(events)
        ids = self._insert(events)
        stored = list(zip(events, ids, strict=True))
        last_of_asset = {
            e.dagster_event.asset_key: (e, i)
            for e, i in stored
            if e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key
        }
        index_cols = self.has_secondary_index(ASSET_KEY_INDEX_COLS)
        assets = [
            {"asset_key": key.to_string(), **self._get_asset_entry_values(e, i, index_cols)}
            for key, (e, i) in last_of_asset.items()
        ]
        checks = [
            row for e, i in stored if e.dagster_event_type in ASSET_CHECK_EVENTS
            for row in self._planned_check_rows(e, i)
        ]  # fmt: skip
        with self.index_connection() as conn:
            if assets:
                upsert = postgresql.insert(AssetKeyTable).values(assets)
                changed = {k: upsert.excluded[k] for k in assets[0] if k != "asset_key"}
                conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=[AssetKeyTable.c.asset_key], set_=changed
                    )
                    if changed else upsert.on_conflict_do_nothing()
                )  # fmt: skip
            if checks:
                conn.execute(AssetCheckExecutionsTable.insert().values(checks))

    def flush_held(self) -> None:
        """Writes the held events now (their time is up, the process ends, or a read needs
        them)."""
        with self._gcc_held_lock:
            if self.__dict__.get("_gcc_held"):
                self._insert([])

    def dispose(self) -> None:
        self.flush_held()
        super().dispose()

    def _hold(self, event: EventLogEntry) -> None:
        if not self._gcc_held:
            timer = threading.Timer(self.HOLD_SECONDS, self.flush_held)
            timer.daemon = True
            timer.start()
        self._gcc_held.append(event)

    def _store_check_evaluation(self, event: EventLogEntry) -> None:
        """A check's evaluation and the update of the row its planned event made, in one
        statement: the row `_update_asset_check_evaluation` writes, one round trip less."""
        evaluation = event.get_dagster_event().event_specific_data
        table = AssetCheckExecutionsTable
        stored = (
            self.prepare_insert_event_batch([*self._gcc_held, event])
            .returning(SqlEventLogStorageTable.c.id)
            .cte("stored")
        )
        event_id = sqlalchemy.select(sqlalchemy.func.max(stored.c.id)).scalar_subquery()
        done = (
            AssetCheckExecutionRecordStatus.SUCCEEDED
            if evaluation.passed
            else AssetCheckExecutionRecordStatus.FAILED
        )
        target = evaluation.target_materialization_data
        updated = (
            table.update()
            .where(
                table.c.asset_key == evaluation.asset_key.to_string(),
                table.c.check_name == evaluation.check_name,
                table.c.run_id == event.run_id,
                self._get_asset_check_partition_filter_clause(
                    PartitionKeyFilter(key=evaluation.partition)
                ),
            )
            .values(
                execution_status=done.value,
                evaluation_event=serialize_value(event),
                evaluation_event_timestamp=self._event_insert_timestamp(event),
                evaluation_event_storage_id=event_id,
                materialization_event_storage_id=target.storage_id if target else None,
                partition=evaluation.partition,
            )
            .returning(table.c.id)
            .cte("updated")
        )
        counted = sqlalchemy.select(sqlalchemy.func.count()).select_from(updated).scalar_subquery()
        with self._connect() as conn:
            stored_id, rows = conn.execute(sqlalchemy.select(event_id, counted)).one()
        self._gcc_held.clear()
        if rows != 1:  # no planned row (Dagster's own path inserts one), or duplicates (it raises)
            super()._update_asset_check_evaluation(event, int(stored_id))

    def _insert(self, events: Sequence[EventLogEntry]) -> list[int]:
        """The held events and these in one INSERT: these events' ids."""
        with self._gcc_held_lock:
            rows = [*self._gcc_held, *events]
            with self._connect() as conn:
                inserted = conn.execute(
                    self.prepare_insert_event_batch(rows).returning(SqlEventLogStorageTable.c.id)
                )
                ids = [int(row[0]) for row in inserted.fetchall()]
            self._gcc_held.clear()
        return ids[len(ids) - len(events) :]

    def _planned_check_rows(self, event: EventLogEntry, event_id: int) -> list[dict]:
        """The rows `_store_asset_check_evaluation_planned` inserts, one per partition."""
        planned = event.get_dagster_event().event_specific_data
        subset = planned.partitions_subset
        return [
            {
                "asset_key": planned.asset_key.to_string(),
                "check_name": planned.check_name,
                "partition": partition,
                "run_id": event.run_id,
                "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
                "evaluation_event": serialize_value(event),
                "evaluation_event_timestamp": self._event_insert_timestamp(event),
                "evaluation_event_storage_id": event_id,
            }
            for partition in (subset.get_partition_keys() if subset else [None])
        ]


class GccScheduleStorage(_Pooled, PostgresScheduleStorage):
    """In a process that never reads schedules or sensors (`gcc run`, which sets
    AT_FIRST_USE before making its instance), meets the server at its first use rather than
    when the instance is made: making it cost 14 round trips (dialect, table check,
    connections). Its tables are then made as dagster-postgres makes them. The webserver and
    the daemon make it as dagster-postgres does (their threads all start by reading it)."""

    application = "gcc-dagster-schedules"
    AT_FIRST_USE = False

    @classmethod
    def _kwargs(cls) -> dict:
        return {**super()._kwargs(), "should_autocreate_tables": not cls.AT_FIRST_USE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gcc_tables_checked = self.should_autocreate_tables  # made, or found, already

    def connect(self, run_id: str | None = None) -> ContextManager[Connection]:
        if not self.__dict__.get("_gcc_tables_checked"):
            with _TABLES_CHECK:  # the daemon's threads start together: one checks, all wait
                if not self.__dict__.get("_gcc_tables_checked"):
                    self._gcc_tables_checked = True  # making the tables connects too
                    try:
                        self._make_tables()
                    except BaseException:
                        self._gcc_tables_checked = False
                        raise
        return super().connect(run_id)

    def _make_tables(self) -> None:
        """What dagster-postgres does when the instance is made (should_autocreate_tables)."""
        engine = self._engine
        tables = retry_pg_connection_fn(lambda: sqlalchemy.inspect(engine).get_table_names())
        if "schedules" not in tables and "jobs" not in tables:
            retry_pg_creation_fn(self._init_db)

    SCHEMA_CHECKS = (
        "has_instigators_table", "_has_instigators_table",
        "_has_asset_daemon_asset_evaluations_table", "has_secondary_index_table",
    )  # fmt: skip


class GccComputeLogs(_FoundWithoutConfig, LocalComputeLogManager):
    """Step stdout/stderr under GCC_HOME/dagster/logs, kept across `dagster dev` sessions."""

    @classmethod
    def _kwargs(cls) -> dict:
        return {"base_dir": str(dagster_home() / "logs")}


class GccArtifacts(_FoundWithoutConfig, LocalArtifactStorage):
    @classmethod
    def _kwargs(cls) -> dict:
        return {"base_dir": str(dagster_home())}


# ---------------------------------------------------------------------- dead run workers


def _process_started(pid: int) -> float | None:
    """Start time (epoch seconds) of a live process, None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0  # alive, start time unknown (not Linux)
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def run_process_gone(instance: DagsterInstance, run: DagsterRun) -> bool | None:
    """True when the process that wrote the run's latest event is gone (or is another process
    with a recycled pid); None when the run has no such event yet, or ran on another host."""
    records = instance.get_records_for_run(run.run_id, ascending=False, limit=20).records
    for record in records:
        event = record.event_log_entry
        pid = event.dagster_event.pid if event.dagster_event else None
        if pid is None:
            continue
        if run.tags.get("gcc/host", socket.gethostname()) != socket.gethostname():
            return None
        started = _process_started(pid)
        return started is None or started > event.timestamp + 1
    return None


def fail_dead_runs(instance: DagsterInstance) -> list[str]:
    """Mark in-progress runs whose process died (SIGKILL, OOM, reboot) as failed and free what
    they held, so nothing later waits behind them. Returns their run ids."""
    failed = []
    for run in instance.get_runs(filters=RunsFilter(statuses=list(IN_PROGRESS_RUN_STATUSES))):
        if run_process_gone(instance, run):
            instance.report_run_failed(
                run, "the run's process is gone (killed or crashed); marked failed by gcc"
            )
            if instance.event_log_storage.supports_global_concurrency_limits:
                instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            failed.append(run.run_id)
    return failed


class GccRunLauncher(DefaultRunLauncher):
    """The default launcher, plus the health check run monitoring needs: a run whose worker
    process died is failed by the daemon instead of staying STARTED forever."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if run_process_gone(self._instance, run):
            return CheckRunHealthResult(WorkerStatus.FAILED, "the run worker process is gone")
        return CheckRunHealthResult(WorkerStatus.RUNNING)
