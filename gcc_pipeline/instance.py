"""The Dagster instance classes dagster.yaml names: storage and logs under GCC_HOME, found without
any variable exported, and a run launcher that notices dead run workers.

`dagster dev`, `dagster-daemon run` and the run workers read dagster.yaml; each storage here
resolves the same PostgreSQL `gcc` uses (POSTGRES_URL / DAGSTER_POSTGRES_URL, else the embedded
server under GCC_HOME, started if needed), so the UI opened by hand shows the runs of `gcc run`.
"""

import os
import socket
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, EventLogEntry
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, DagsterRun, RunsFilter
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.storage.root import LocalArtifactStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage

from gcc_pipeline.settings import enable_dagster_event_batching, load_settings
from gcc_pipeline.warehouse.urls import for_sqlalchemy

POOL_RECYCLE_SECONDS = 600  # a connection older than this is replaced at its next use
POOL_OVERFLOW = 10  # connections beyond the one kept, for the daemon's threads; closed after use

_PLANNED = {
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
}

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

    @classmethod
    def _kwargs(cls) -> dict:
        return {"postgres_url": storage_url()}


class _Pooled(_FoundWithoutConfig):
    """A storage that keeps its connections: dagster-postgres opens one per query by default,
    and over a hosted PostgreSQL each costs several round trips (TCP, TLS, authentication) while
    a run stores hundreds of events. Webservers replace this pool with their own."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict):
        storage = super().from_config_value(inst_data, config_value)
        storage.optimize_for_webserver(
            statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS, max_overflow=POOL_OVERFLOW
        )
        return storage


class GccRunStorage(_Pooled, PostgresRunStorage):
    pass


class GccEventLogStorage(_Pooled, PostgresEventLogStorage):
    """Stores a run's planned events (one per partition of each asset, hundreds for a range
    run) in one INSERT: dagster-postgres writes that batch one event at a time, about eight
    statements each, a round trip apiece on a hosted database. As Dagster's own batch of
    materializations does, the asset index gets each asset's last event only."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not events or any(e.dagster_event_type not in _PLANNED for e in events):
            return super().store_event_batch(events)
        with self._connect() as conn:
            inserted = conn.execute(
                self.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id)
            )
            ids = [int(row[0]) for row in inserted.fetchall()]
        last_of_asset = {
            e.dagster_event.asset_key: (e, i)
            for e, i in zip(events, ids, strict=True)
            if e.dagster_event_type in ASSET_EVENTS and e.dagster_event.asset_key
        }
        with self.index_transaction() as conn:
            for event, event_id in last_of_asset.values():
                self._store_asset_event(conn, event, event_id)
        for event, event_id in zip(events, ids, strict=True):
            if event.dagster_event_type in ASSET_CHECK_EVENTS:
                self.store_asset_check_event(event, event_id)


class GccScheduleStorage(_Pooled, PostgresScheduleStorage):
    pass


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
