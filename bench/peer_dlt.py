"""The bench's peer loader: dlt's ``rest_api`` source copying the same API into PostgreSQL.

    from bench.peer_dlt import load
    load("http://127.0.0.1:8765/api1", "sandbox-key", "postgresql://postgres@127.0.0.1/db", "peer")

    python -m bench.peer_dlt --base-url http://127.0.0.1:8765/api1 --key sandbox-key \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/db [--dataset jobnimbus] [--json out]

Configured as a careful dlt user would for this API (optional extra ``bench``: dlt[postgres]): the
list endpoints of gcc's stream registry with bearer auth; since offsets stop at 10,000 results, a
small keyset paginator sorts by ``date_updated`` (activities: ``date_created``) ascending and asks
for ``gte`` the last value seen, ``from=0``, ``size=1000``; rows seen twice at a page boundary are
de-duplicated the standard dlt way (``primary_key="jnid"`` with the ``merge`` write disposition);
nested data is normalized into child tables as dlt does by default. Everything else is left at dlt's
defaults (resources extracted one after another, normalize in-process, 20 load threads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

# No telemetry calls from a benchmark (this machine reaches no outside host anyway).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")  # not its "no config.toml" notes

import dlt
import psycopg2
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from dlt.sources.rest_api import rest_api_source
from requests import Request, Response

PAGE_SIZE = 1000


def registry_streams() -> list[dict[str, Any]]:
    """The list endpoints gcc copies, from its stream registry: the same records gcc asks for
    (of the activities, the status changes only). bench/peer.py passes them as --streams, so the
    measured child never imports gcc_pipeline (nor Dagster) and its peak RSS stays dlt's own."""
    from gcc_pipeline.streams import STREAMS

    return [
        {"name": s.name, "path": s.path.lstrip("/"), "list_key": s.list_key,
         "field": s.window_field, "filters": [dict(f) for f in s.filters]}
        for s in STREAMS
    ]  # fmt: skip


class KeysetPaginator(BasePaginator):
    """Ascending keyset paging on one date field: each page asks for ``field >= last seen``.

    Offsets are always 0 except when a whole page shares one value (then ``from`` steps through
    that tie group, so paging always advances). Records at the boundary value come back on the
    next page: the merge on ``jnid`` drops them. The last page is the first one not full.
    """

    def __init__(
        self,
        field: str,
        size: int = PAGE_SIZE,
        *,
        dedupe: bool = False,
        filters: Sequence[dict] = (),
    ) -> None:
        super().__init__()
        self.field = field
        self.filters = list(filters)  # clauses every page asks for (besides the keyset range)
        self.size = size
        self.value: float | None = None
        self.offset = 0
        self.requests = 0
        self.dedupe = dedupe  # drop rows already yielded (for write_disposition="replace")
        self._seen: set[Any] = set()
        self.duplicates = 0

    def init_request(self, request: Request) -> None:
        request.params = {
            **(request.params or {}),
            "sort_field": self.field,
            "sort_direction": "asc",
            "size": self.size,
            "from": 0,
        }
        if self.filters:
            request.params["filter"] = json.dumps({"must": self.filters}, separators=(",", ":"))

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.requests += 1
        page = data if data is not None else []
        full = len(page) == self.size
        last = page[-1].get(self.field) if page else None
        if self.dedupe and page:
            # the page list is the one dlt yields next: drop the boundary rows seen before
            fresh = [r for r in page if r.get("jnid") not in self._seen]
            self.duplicates += len(page) - len(fresh)
            self._seen.update(r.get("jnid") for r in fresh)
            page[:] = fresh
        if not full:
            self._has_next_page = False
            return
        if not isinstance(last, int | float):
            raise ValueError(f"record without a numeric {self.field}: cannot page by keyset")
        if last == self.value:
            self.offset += self.size  # a full page of one value: step through the tie group
        else:
            self.value, self.offset = last, 0

    def update_request(self, request: Request) -> None:
        if self.value is None:
            return
        request.params["from"] = self.offset
        request.params["filter"] = json.dumps(
            {"must": [*self.filters, {"range": {self.field: {"gte": self.value}}}]},
            separators=(",", ":"),
        )


def source(
    base_url: str,
    api_key: str,
    write_disposition: str = "merge",
    parallelized: bool = False,
    streams: Sequence[dict[str, Any]] | None = None,
) -> tuple[Any, dict[str, KeysetPaginator]]:
    """The rest_api source over the registry's list endpoints, and its paginators (requests)."""
    streams = registry_streams() if streams is None else streams
    dedupe = write_disposition != "merge"
    paginators = {
        s["name"]: KeysetPaginator(s["field"], dedupe=dedupe, filters=s["filters"]) for s in streams
    }
    config: dict[str, Any] = {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "bearer", "token": api_key},
        },
        "resource_defaults": {
            "primary_key": "jnid",
            "write_disposition": write_disposition,
        },
        "resources": [
            {
                "name": s["name"],
                "endpoint": {
                    "path": s["path"],
                    "data_selector": s["list_key"],
                    "paginator": paginators[s["name"]],
                },
            }
            for s in streams
        ],
    }
    # parallelized=True: resources are extracted in dlt's thread pool instead of one by one
    return rest_api_source(config, name="jobnimbus", parallelized=parallelized), paginators


def load(
    base_url: str,
    api_key: str,
    postgres_url: str,
    dataset: str,
    *,
    write_disposition: str = "merge",
    parallelized: bool = False,
    pipelines_dir: str | None = None,
    streams: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Load every record into ``dataset`` (a PostgreSQL schema) and return the figures.

    ``seconds`` is the wall time of ``pipeline.run`` (extract, normalize, load), ``records`` the
    distinct rows per resource table afterwards, ``extracted`` what dlt read (with the page
    boundary duplicates), ``requests`` the pages fetched. Pipeline state goes to a temporary
    folder unless ``pipelines_dir`` is given, so every call is a fresh full load.
    ``write_disposition="replace"`` drops boundary duplicates in the paginator instead of merging;
    ``parallelized=True`` fetches the resources concurrently (dlt's default is one by one).
    """
    with tempfile.TemporaryDirectory(prefix="peer-dlt-") as tmp:
        pipeline = dlt.pipeline(
            pipeline_name="jobnimbus_peer",
            pipelines_dir=pipelines_dir or tmp,
            destination=dlt.destinations.postgres(credentials=credentials(postgres_url)),
            dataset_name=dataset,
            progress=None,
        )
        src, paginators = source(base_url, api_key, write_disposition, parallelized, streams)
        started = time.perf_counter()
        info = pipeline.run(src)
        seconds = time.perf_counter() - started
        info.raise_on_failed_jobs()
        trace = pipeline.last_trace
        steps = {
            s.step: (s.finished_at - s.started_at).total_seconds()
            for s in trace.steps
            if s.started_at and s.finished_at
        }
        row_counts = dict(trace.last_normalize_info.row_counts) if trace.last_normalize_info else {}
    records = count_rows(postgres_url, dataset, list(paginators))
    child_tables = {t: n for t, n in row_counts.items() if "__" in t and not t.startswith("_dlt")}
    return {
        "seconds": seconds,
        "steps": steps,
        "records": records,
        "total_records": sum(records.values()),
        "extracted": {r: row_counts.get(r, 0) for r in paginators},
        "child_tables": len(child_tables),
        "child_rows": sum(child_tables.values()),
        "requests": {r: p.requests for r, p in paginators.items()},
        "total_requests": sum(p.requests for p in paginators.values()),
        "write_disposition": write_disposition,
        "parallelized": parallelized,
        "duplicates_dropped_in_paginator": sum(p.duplicates for p in paginators.values()),
        "dlt_version": dlt.__version__,
    }


def credentials(postgres_url: str) -> PostgresCredentials:
    """dlt's credentials for any URL psycopg2 takes, including trust auth and unix sockets.

    dlt refuses a URL without a password or without a host (``ConfigFieldMissingException``)
    even when the server needs neither: an explicit empty password is accepted, and a socket URL
    (``postgresql://postgres@/db?host=/socket/dir``, the embedded server's) gets a placeholder
    host, since libpq lets the ``host`` query parameter override the URL's host.
    """
    creds = PostgresCredentials()
    creds.parse_native_representation(postgres_url)
    if creds.password is None:
        creds.password = ""
    if not creds.host and (creds.query or {}).get("host"):
        creds.host = "localhost"
    return creds


def count_rows(postgres_url: str, dataset: str, tables: list[str]) -> dict[str, int]:
    conn = psycopg2.connect(postgres_url)
    try:
        with conn.cursor() as cur:
            out = {}
            for t in tables:
                cur.execute(f'SELECT count(*) FROM "{dataset}"."{t}"')
                out[t] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.peer_dlt", description=__doc__.split("\n")[0])
    p.add_argument("--base-url", required=True, help="API root, e.g. http://127.0.0.1:8765/api1")
    p.add_argument("--key", required=True, help="API key (bearer)")
    p.add_argument("--postgres-url", required=True, help="destination database")
    p.add_argument("--dataset", default="jobnimbus_peer", help="schema to load into")
    p.add_argument("--json", metavar="PATH", help="also write the figures there")
    p.add_argument(
        "--write-disposition",
        choices=("merge", "replace"),
        default="merge",
        help="merge on jnid (default) or replace with de-duplication in the paginator",
    )
    p.add_argument("--parallelized", action="store_true", help="extract the resources concurrently")
    p.add_argument("--streams", metavar="JSON", help="the endpoints (default: gcc's registry)")
    args = p.parse_args(argv)
    result = load(
        args.base_url,
        args.key,
        args.postgres_url,
        args.dataset,
        write_disposition=args.write_disposition,
        parallelized=args.parallelized,
        streams=json.loads(args.streams) if args.streams else None,
    )
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
