"""Run the real pipeline (Dagster `materialize`) against a sandbox server and a test database."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from gcc_pipeline import clock
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.partitions import month_key
from gcc_pipeline.resources import AccountResource
from gcc_pipeline.sandbox import SandboxServer, start_sandbox
from gcc_pipeline.settings import load_settings
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


def resources(server: SandboxServer, warehouse_url: str, **jobnimbus: Any) -> dict[str, object]:
    settings = load_settings()
    return {
        "jobnimbus": JobNimbusResource(api_key=API_KEY, base_url=server.base_url, **jobnimbus),
        "warehouse": WarehouseResource(url=warehouse_url),
        "account": AccountResource(
            timezone=settings.timezone,
            start_date=settings.start_date,
            freshness_hours=settings.freshness_hours,
        ),
    }


def pipeline_assets() -> list[object]:
    """Every asset but the analytics views and the weekly reconciliation."""
    from gcc_pipeline.definitions import defs

    return [
        a for a in defs.assets
        if not _is_analytics(a) and dg.AssetKey("reconciliation") not in getattr(a, "keys", ())
    ]  # fmt: skip


def materialize_range(
    server: SandboxServer,
    warehouse_url: str,
    start: date,
    end: date,
    *,
    assets: Sequence[object] | None = None,
    instance: dg.DagsterInstance | None = None,
    raise_on_error: bool = True,
    incremental: bool = False,
    since: str | None = None,
    selection: object = None,
    **jobnimbus: Any,
) -> dg.ExecuteInProcessResult:
    """One run over the months holding [start, end] (whole months unless `incremental`)."""
    config = {"incremental": incremental, **({"since": since} if since else {})}
    return dg.materialize(
        list(assets) if assets is not None else pipeline_assets(),
        selection=selection,
        resources=resources(server, warehouse_url, **jobnimbus),
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": month_key(_midday(start)),
            "dagster/asset_partition_range_end": month_key(_midday(end)),
        },
        run_config={"ops": {"jobnimbus": {"config": config}}},
        raise_on_error=raise_on_error,
    )


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


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


def today(server: SandboxServer) -> date:
    return datetime.fromtimestamp(server.company.now, tz=UTC).date()


def full_backfill(
    server: SandboxServer, warehouse_url: str, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    """Every month from the company's first day through the current one (whole months)."""
    latest = clock.now().date()
    return materialize_range(server, warehouse_url, first_day(server), latest, **kwargs)


def catch_up(server: SandboxServer, warehouse_url: str, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """What schedules and `gcc run` do after the first load: the current month, incrementally."""
    latest = clock.now().date()
    return materialize_range(server, warehouse_url, latest, latest, incremental=True, **kwargs)
