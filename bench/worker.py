"""The bench's subprocesses: one Dagster run of the pipeline, or the fetch-and-COPY floor.

    python -m bench.worker pipeline --spec '{...}'
    python -m bench.worker floor --spec '{...}'

The orchestrator (bench/run.py) starts these in their own processes so that the peak RSS of a
run is that process's alone and the sandbox (another process) never shares its GIL. Each writes
one JSON object to the path given in the spec. GCC_START_DATE must be set in the environment
before this module imports gcc_pipeline (the partitions are built at import); the orchestrator
does it.

The pipeline mode instruments without touching project code: psycopg2 connections get a cursor
class that times every statement (grouped by the named query of sql/load/ or by verb and table),
``JobNimbusClient.iter_window`` is wrapped to time the fetch (HTTP and JSON decoding) apart from
what the caller does with the records, and ``requests.Session.send`` counts HTTP requests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import threading
import time
import warnings
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
WINDOWED = ("contacts", "jobs", "payments", "workorders", "materialorders", "activities")


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- instrumentation


class Timings:
    """Seconds and calls per SQL statement group, per fetch resource, and HTTP requests."""

    def __init__(self) -> None:
        self.sql: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self.fetch: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self.http: dict[str, int] = defaultdict(int)
        self.sql_main: dict[str, float] = defaultdict(float)  # part of `sql` on the main thread
        self.waits = [0.0, 0]  # main thread blocked in Future.result (a writer thread's work)
        self.events: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])  # by step ("" = run)
        self.event_types: dict[str, int] = defaultdict(int)
        self._named: dict[str, str] = {}
        load = ROOT / "sql" / "load"
        if load.is_dir():
            for f in load.glob("*.sql"):
                self._named[f.read_text().strip()] = f.stem

    _VERB = re.compile(
        r"^\s*(?:(?:/\*.*?\*/|--[^\n]*\n)\s*)*(COPY|INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE|CREATE\s+"
        r"(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?|REFRESH\s+MATERIALIZED"
        r"\s+VIEW(?:\s+CONCURRENTLY)?|SELECT|WITH|ANALYZE|LOCK\s+TABLE|SET|BEGIN|COMMIT)\s*"
        r"(\"?[\w.]+\"?)?",
        re.IGNORECASE | re.DOTALL,
    )

    def label(self, statement: Any) -> str:
        text = statement.decode() if isinstance(statement, bytes) else str(statement)
        name = self._named.get(text.strip())
        if name:
            return f"q:{name}"
        m = self._VERB.match(text)
        if not m:
            return "other"
        verb = " ".join(m.group(1).split()).upper()
        if verb in ("SELECT", "WITH", "SET", "BEGIN", "COMMIT"):
            target = ""
            into = re.search(r"\bINSERT\s+INTO\s+(\"?[\w.]+\"?)", text, re.IGNORECASE)
            if verb == "WITH" and into:
                verb, target = "WITH..INSERT", into.group(1)
            elif verb == "SELECT":
                frm = re.search(r"\bFROM\s+(\"?[\w.]+\"?)", text, re.IGNORECASE)
                target = frm.group(1) if frm else ""
        else:
            target = m.group(2) or ""
        for short in ("CREATE", "REFRESH", "LOCK"):
            if verb.startswith(short):
                verb = short
        return f"{verb} {target.strip(chr(34))}".strip()

    def add_sql(self, statement: Any, seconds: float) -> None:
        label = self.label(statement)
        slot = self.sql[label]
        slot[0] += seconds
        slot[1] += 1
        if threading.current_thread() is threading.main_thread():
            self.sql_main[label] += seconds


TIMINGS = Timings()


def install_instrumentation() -> None:
    """Wrap psycopg2.connect, JobNimbusClient.iter_window and requests.Session.send."""
    import psycopg2
    import psycopg2.extensions
    import requests

    perf = time.perf_counter

    class TimingCursor(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            t = perf()
            try:
                return super().execute(query, vars)
            finally:
                elapsed = perf() - t
                if hasattr(query, "as_string"):  # psycopg2.sql.Composed
                    query = query.as_string(self)
                TIMINGS.add_sql(query, elapsed)

        def executemany(self, query, vars_list):
            t = perf()
            try:
                return super().executemany(query, vars_list)
            finally:
                TIMINGS.add_sql(query, perf() - t)

        def copy_expert(self, sql, file, size=8192):
            t = perf()
            try:
                return super().copy_expert(sql, file, size)
            finally:
                TIMINGS.add_sql(sql, perf() - t)

        def copy_from(self, file, table, *args, **kwargs):
            t = perf()
            try:
                return super().copy_from(file, table, *args, **kwargs)
            finally:
                TIMINGS.add_sql(f"COPY {table}", perf() - t)

    original_connect = psycopg2.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("cursor_factory", TimingCursor)
        return original_connect(*args, **kwargs)

    psycopg2.connect = connect

    original_send = requests.Session.send

    def send(self, request, **kwargs):
        path = request.path_url.split("?", 1)[0]
        TIMINGS.http[path] += 1
        return original_send(self, request, **kwargs)

    requests.Session.send = send

    from gcc_pipeline.jobnimbus.client import JobNimbusClient

    original_iter = JobNimbusClient.iter_window

    def iter_window(self, resource_name, start, end):
        slot = TIMINGS.fetch[resource_name]
        it = original_iter(self, resource_name, start, end)
        while True:
            t = perf()
            try:
                record = next(it)
            except StopIteration:
                slot[0] += perf() - t
                return
            slot[0] += perf() - t
            slot[1] += 1
            yield record

    JobNimbusClient.iter_window = iter_window

    from concurrent.futures import Future

    original_result = Future.result

    def result(self, timeout=None):
        if threading.current_thread() is not threading.main_thread():
            return original_result(self, timeout)
        t = perf()
        try:
            return original_result(self, timeout)
        finally:
            TIMINGS.waits[0] += perf() - t
            TIMINGS.waits[1] += 1

    Future.result = result

    from dagster import DagsterInstance

    original_handle = DagsterInstance.handle_new_event

    def handle_new_event(self, event, **kwargs):
        t = perf()
        try:
            return original_handle(self, event, **kwargs)
        finally:
            de = event.dagster_event
            kind = de.event_type_value if de else "log"
            # planned materializations carry their step's key but are stored at run creation
            in_step = kind != "ASSET_MATERIALIZATION_PLANNED" and not kind.startswith("RUN_")
            slot = TIMINGS.events[(event.step_key or "") if in_step else ""]
            slot[0] += perf() - t
            slot[1] += 1
            TIMINGS.event_types[kind] += 1

    DagsterInstance.handle_new_event = handle_new_event


# ---------------------------------------------------------------------- pipeline mode


def _select_assets(kind: str) -> list:
    from gcc_pipeline.definitions import defs

    if kind == "analytics":
        from gcc_pipeline.assets.analytics import ANALYTICS_ASSETS

        return list(ANALYTICS_ASSETS)
    return [
        a
        for a in defs.assets
        if "analytics" not in set(a.group_names_by_key.values())
        and "reconciliation" not in {k.to_user_string() for k in a.keys}
    ]


def run_pipeline(spec: dict) -> dict:
    t_import = time.perf_counter()
    install_instrumentation()
    import dagster as dg

    from gcc_pipeline.jobnimbus import JobNimbusResource
    from gcc_pipeline.warehouse.resource import WarehouseResource

    assets = _select_assets(spec.get("assets", "ingestion"))
    import_seconds = time.perf_counter() - t_import
    tags = {}
    if spec.get("start"):
        tags = {
            "dagster/asset_partition_range_start": spec["start"],
            "dagster/asset_partition_range_end": spec["end"],
        }
    resources = {"warehouse": WarehouseResource(url=spec["url"])}
    if spec.get("assets", "ingestion") != "analytics":
        resources["jobnimbus"] = JobNimbusResource(api_key=spec["key"], base_url=spec["base_url"])
    profiler = None
    if spec.get("profile"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.002)
        profiler.start()
    started = time.perf_counter()
    result = dg.materialize(
        assets,
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(),
        tags=tags,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        out = Path(spec["profile"])
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        out.with_suffix(".html").write_text(profiler.output_html())
        if profiler.last_session is not None:  # re-render: pyinstrument --load=FILE -r text
            profiler.last_session.save(str(out.with_suffix(".pyisession")))
    steps: dict[str, float] = {}
    metadata: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "STEP_FAILURE":
            failures.append(f"{event.step_key}: {event.event_specific_data.error.message[:500]}")
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            metadata[m.asset_key.to_user_string()] = {
                k: v.value
                for k, v in m.metadata.items()
                if isinstance(v.value, int | float | str | bool) and k != "preview"
            }
    return {
        "success": result.success,
        "failures": failures,
        "run_id": result.run_id,
        "seconds": seconds,
        "import_seconds": import_seconds,
        "steps": steps,
        "metadata": metadata,
        "sql": {k: {"seconds": v[0], "calls": v[1]} for k, v in TIMINGS.sql.items()},
        "fetch": {k: {"seconds": v[0], "records": v[1]} for k, v in TIMINGS.fetch.items()},
        "http": dict(TIMINGS.http),
        "sql_main_thread": dict(TIMINGS.sql_main),
        "future_waits": {"seconds": TIMINGS.waits[0], "calls": TIMINGS.waits[1]},
        "events": {k: {"seconds": v[0], "count": v[1]} for k, v in TIMINGS.events.items()},
        "event_types": dict(TIMINGS.event_types),
        "maxrss_mb": _maxrss_mb(),
    }


# ---------------------------------------------------------------------- floor mode


class _CopySource:
    """A file-like object COPY reads from, fed by a record iterator (text format lines)."""

    def __init__(self, entity: str, records) -> None:
        self._prefix = entity + "\t"
        self._records = records
        self._buffer = ""
        self.count = 0

    def read(self, size: int = -1) -> str:
        dumps = json.dumps
        parts = [self._buffer]
        have = len(self._buffer)
        while have < max(size, 1 << 16):
            try:
                record = next(self._records)
            except StopIteration:
                break
            line = self._prefix + dumps(record).replace("\\", "\\\\") + "\n"
            parts.append(line)
            have += len(line)
            self.count += 1
        data = "".join(parts)
        if size is None or size < 0:
            self._buffer = ""
            return data
        self._buffer = data[size:]
        return data[:size]

    readline = read


def run_floor(spec: dict) -> dict:
    import psycopg2

    from gcc_pipeline.jobnimbus import JobNimbusClient

    start = datetime.fromisoformat(spec["window_start"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(spec["window_end"]).replace(tzinfo=UTC)
    out: dict[str, Any] = {"fetch_only": {}, "fetch_copy": {}}
    if not spec.get("skip_fetch_only"):
        with JobNimbusClient(base_url=spec["base_url"], api_key=spec["key"]) as client:
            for name in WINDOWED:
                t = time.perf_counter()
                n = sum(1 for _ in client.iter_window(name, start, end))
                out["fetch_only"][name] = {
                    "seconds": time.perf_counter() - t,
                    "records": n,
                    "requests": client.stats.get(name, {}).get("requests", 0),
                }
    conn = psycopg2.connect(spec["url"])
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_floor")
        cur.execute("CREATE TABLE bench_floor (entity_type text NOT NULL, payload jsonb NOT NULL)")
    with JobNimbusClient(base_url=spec["base_url"], api_key=spec["key"]) as client:
        for name in WINDOWED:
            t = time.perf_counter()
            source = _CopySource(name, client.iter_window(name, start, end))
            with conn, conn.cursor() as cur:
                cur.copy_expert(
                    "COPY bench_floor (entity_type, payload) FROM STDIN", source, size=1 << 16
                )
            out["fetch_copy"][name] = {"seconds": time.perf_counter() - t, "records": source.count}
    with conn, conn.cursor() as cur:
        cur.execute("SELECT pg_total_relation_size('bench_floor')")
        out["table_bytes"] = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_floor")
    conn.close()
    out["maxrss_mb"] = _maxrss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("mode", choices=("pipeline", "floor"))
    parser.add_argument("--spec", required=True, help="JSON object (see bench/run.py)")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    if "GCC_START_DATE" not in os.environ:
        print("bench.worker: GCC_START_DATE must be set before gcc_pipeline is imported",
              file=sys.stderr)  # fmt: skip
        return 2
    result = run_pipeline(spec) if args.mode == "pipeline" else run_floor(spec)
    Path(spec["out"]).write_text(json.dumps(result, default=str))
    return 0 if result.get("success", True) else 1


if __name__ == "__main__":
    sys.exit(main())
