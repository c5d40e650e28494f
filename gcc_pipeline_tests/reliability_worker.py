"""One backfill run in a process of its own, for the crash and concurrency tests.

    python -m gcc_pipeline_tests.reliability_worker BASE_URL WAREHOUSE_URL START END \
        [--page-size N] [--chunk-size N]

The API key comes from JOBNIMBUS_API_KEY (never argv, which `ps` shows). The run materializes
every non-analytics asset over the daily partitions [START, END], exactly as
`gcc_pipeline_tests.pipeline.materialize_range` does in-process; it starts no server itself.
`--chunk-size` makes the landing commit every N records, so that a kill lands between committed
chunks. Exit status 0 when the run succeeded, 1 when it failed.
"""

import argparse
import functools
import os
import sys

os.environ.setdefault("GCC_START_DATE", "2024-01-01")  # as conftest, before partitions import

import dagster as dg

from gcc_pipeline.assets import ingestion
from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.warehouse.landing import Lander
from gcc_pipeline.warehouse.resource import WarehouseResource


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("warehouse_url")
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=0)
    args = parser.parse_args(argv)

    if args.chunk_size:
        ingestion.Lander = functools.partial(Lander, chunk_size=args.chunk_size)

    from gcc_pipeline.definitions import defs
    from gcc_pipeline_tests.pipeline import _is_analytics

    result = dg.materialize(
        [a for a in defs.assets if not _is_analytics(a)],
        resources={
            "jobnimbus": JobNimbusResource(
                api_key=os.environ["JOBNIMBUS_API_KEY"],
                base_url=args.base_url,
                page_size=args.page_size,
            ),
            "warehouse": WarehouseResource(url=args.warehouse_url),
        },
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": args.start,
            "dagster/asset_partition_range_end": args.end,
        },
        raise_on_error=False,
    )
    print(f"run {result.run_id}: {'success' if result.success else 'failure'}", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
