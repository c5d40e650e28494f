"""One backfill run in a process of its own, for the crash and concurrency tests.

    python -m gcc_pipeline_tests.reliability_worker BASE_URL WAREHOUSE_URL START END \
        [--page-size N] [--chunk-size N]

The API key comes from JOBNIMBUS_API_KEY (never argv, which `ps` shows). The run materializes
every non-analytics asset over the months holding [START, END], exactly as
`gcc_pipeline_tests.pipeline.materialize_range` does in-process; it starts no server itself.
`--chunk-size` makes the landing commit every N records, so that a kill lands between committed
chunks. Exit status 0 when the run succeeded, 1 when it failed.
"""

import argparse
import functools
import os
import sys
from datetime import date

os.environ.setdefault("GCC_START_DATE", "2024-01-01")  # as conftest, before partitions import

from gcc_pipeline.assets import ingestion
from gcc_pipeline.sync import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("warehouse_url")
    parser.add_argument("start")
    parser.add_argument("end")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=0)
    args = parser.parse_args(argv)

    if args.chunk_size:  # the load a run's ingestion step makes lands chunks of this size
        ingestion.Load = functools.partial(load.Load, chunk_size=args.chunk_size)

    from gcc_pipeline_tests.pipeline import materialize_range

    class Server:  # what materialize_range needs of a sandbox: its URL
        base_url = args.base_url

    result = materialize_range(
        Server(),  # type: ignore[arg-type]
        args.warehouse_url,
        date.fromisoformat(args.start),
        date.fromisoformat(args.end),
        raise_on_error=False,
        page_size=args.page_size,
    )
    print(f"run {result.run_id}: {'success' if result.success else 'failure'}", flush=True)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
