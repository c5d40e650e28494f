"""Run the real pipeline (Dagster `materialize`) against a sandbox server and a test database."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.sandbox import SandboxServer, start_sandbox
from gcc_pipeline.warehouse.resource import WarehouseResource

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
API_KEY = "test-key-9f8e7d"


@contextmanager
def sandbox(jobs: int = 200, seed: int = 11, **config: object) -> Iterator[SandboxServer]:
    server = start_sandbox(jobs=jobs, seed=seed, api_key=API_KEY, anchor=ANCHOR, **config)
    try:
        yield server
    finally:
        server.stop()


def resources(server: SandboxServer, warehouse_url: str) -> dict[str, object]:
    return {
        "jobnimbus": JobNimbusResource(api_key=API_KEY, base_url=server.base_url),
        "warehouse": WarehouseResource(url=warehouse_url),
    }


def materialize_range(
    server: SandboxServer,
    warehouse_url: str,
    start: date,
    end: date,
    *,
    assets: Sequence[object] | None = None,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """One run over the daily partitions [start, end] (inclusive), as a backfill chunk would."""
    from gcc_pipeline.definitions import defs

    selected = (
        list(assets) if assets is not None else [a for a in defs.assets if not _is_analytics(a)]
    )
    return dg.materialize(
        selected,
        resources=resources(server, warehouse_url),
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
        },
        raise_on_error=raise_on_error,
    )


def _is_analytics(asset: object) -> bool:
    groups = getattr(asset, "group_names_by_key", {}) or {}
    return any(g == "analytics" for g in groups.values())


def first_day(server: SandboxServer) -> date:
    """The day before the company's oldest record (contacts may predate their first job)."""
    company = server.company
    earliest = min(
        r.get(field) or company.now
        for resource, field in (("contacts", "date_updated"), ("activities", "date_created"))
        for r in company.records(resource)
    )
    return datetime.fromtimestamp(earliest, tz=UTC).date() - timedelta(days=1)


def full_backfill(
    server: SandboxServer, warehouse_url: str, **kwargs: object
) -> dg.ExecuteInProcessResult:
    """Every partition from the company's first day through the sandbox clock's day."""
    now = datetime.fromtimestamp(server.company.now, tz=UTC)
    return materialize_range(server, warehouse_url, first_day(server), now.date(), **kwargs)
