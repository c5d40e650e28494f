"""The floor: every record pulled with the project's client and COPYed as JSON text into one plain
jsonb table, with none of the pipeline around it (no windows, no normalizing, no Dagster).

    python -m bench.floor --base-url URL --key KEY --url POSTGRES_URL   (prints one JSON object)

One connection and one fetch at a time: what a single-threaded loader cannot beat on this
machine, and so how much the pipeline's own work costs above it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import psycopg2

from bench.common import maxrss_mb
from gcc_pipeline.jobnimbus import JobNimbusClient
from gcc_pipeline.streams import STREAMS


class CopySource:
    """A file-like object COPY reads from, fed by a record iterator (text-format lines)."""

    def __init__(self, entity: str, records: Iterator[Any]) -> None:
        self._prefix = entity.encode() + b"\t"
        self._records = records
        self._buffer = b""
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._buffer], len(self._buffer)
        while have < max(size, 1 << 16):
            record = next(self._records, None)
            if record is None:
                break
            line = self._prefix + orjson.dumps(record).replace(b"\\", b"\\\\") + b"\n"
            parts.append(line)
            have += len(line)
            self.count += 1
        data = b"".join(parts)
        if size is None or size < 0:
            self._buffer = b""
            return data
        self._buffer = data[size:]
        return data[:size]

    readline = read


def floor(base_url: str, key: str, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    per_stream: dict[str, dict[str, float]] = {}
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_floor (entity_type text, payload jsonb)")
    with JobNimbusClient(base_url=base_url, api_key=key) as client:
        for stream in STREAMS:
            t = time.perf_counter()
            source = CopySource(stream.entity_type, client.iter_window(stream, None, None))
            with conn, conn.cursor() as cur:
                cur.copy_expert("COPY bench_floor FROM STDIN", source, size=1 << 16)
            per_stream[stream.name] = {"seconds": time.perf_counter() - t,
                                       "records": source.count}  # fmt: skip
    conn.close()
    return {
        "seconds": time.perf_counter() - started,
        "records": int(sum(s["records"] for s in per_stream.values())),
        "streams": per_stream,
        "peak_rss_mb": maxrss_mb(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n")[0])
    p.add_argument("--base-url", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--url", required=True, help="a PostgreSQL database (a temp table is used)")
    args = p.parse_args(argv)
    print(json.dumps(floor(args.base_url, args.key, args.url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
