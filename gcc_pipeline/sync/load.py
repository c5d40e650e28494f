"""Fetch and land the windows of several streams concurrently, politely bounded.

At most `max_concurrency` API requests are in flight at once (a semaphore shared by the
clients), a few more windows than that are in progress so landing never idles a request slot,
and each window's pages are read ahead of its landing. The clients of a load share one rate
limiter and one retry policy, and each window is landed in order, chunk by chunk. Two runs
landing the same stream take turns: a run holds one session-level advisory lock per stream it
loads (taken in registry order, so two runs never deadlock) from its first window to its last;
PostgreSQL releases them if the process dies.
"""

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from itertools import zip_longest
from typing import Any

from psycopg2 import sql

from gcc_pipeline import clock
from gcc_pipeline.jobnimbus import JobNimbusClient, JobNimbusResource
from gcc_pipeline.streams import Stream
from gcc_pipeline.sync.plan import StreamPlan, Window
from gcc_pipeline.sync.read_ahead import read_ahead
from gcc_pipeline.sync.state import Completed, SyncState, advance
from gcc_pipeline.warehouse.landing import Lander, LandingStats
from gcc_pipeline.warehouse.queries import query

Borrow = Callable[..., contextlib.AbstractContextManager[Any]]

#: Windows in progress beyond the requests in flight: while these land a chunk (CPU and SQL), the
#: other threads' requests keep every one of the `max_concurrency` request slots busy.
LANDERS = 2
#: Chunks written at once (each on a pooled connection): on two cores PostgreSQL is busy with
#: this many, and a catch-up's few records need no more connections than this.
WRITERS = LANDERS + 1
#: Rounds of fetching referenced records: jobs a payment names, then contacts those jobs name.
REFERENCE_ROUNDS = 3


@dataclass(frozen=True)
class Named:
    """What a webhook run fetches instead of windows: records by id, per stream, and records
    linked to them (stream -> (field, ids)), such as the status changes of named jobs."""

    ids: dict[str, list[str]]
    linked: dict[str, tuple[str, list[str]]]
    partition_key: str


@dataclass(frozen=True)
class WindowResult:
    window: Window
    stats: LandingStats
    requests: int
    retries: int
    seconds: float
    log: dict[str, Any] = field(default_factory=dict)  # its jobnimbus_ingestion_log row


@dataclass
class StreamResult:
    plan: StreamPlan
    windows: list[WindowResult] = field(default_factory=list)
    state: SyncState | None = None
    waited_seconds: float = 0.0  # for another run landing the same stream
    by_id: list[WindowResult] = field(default_factory=list)  # records other rows referenced

    @property
    def stats(self) -> LandingStats:
        total = LandingStats()
        for w in (*self.windows, *self.by_id):
            total.add(w.stats)
        return total

    @property
    def window_stats(self) -> LandingStats:
        """What the windows landed (the high-water mark follows these, not fetches by id)."""
        total = LandingStats()
        for w in self.windows:
            total.add(w.stats)
        return total

    @property
    def referenced_fetched(self) -> int:
        return sum(w.stats.fetched for w in self.by_id)

    @property
    def requests(self) -> int:
        return sum(w.requests for w in (*self.windows, *self.by_id))

    @property
    def retries(self) -> int:
        return sum(w.retries for w in (*self.windows, *self.by_id))


class _Worker(threading.local):
    client: JobNimbusClient | None = None
    conn: Any = None


class Load:
    """One run's load of several streams; iterate `run()` to get each stream as it completes."""

    def __init__(
        self,
        plans: Sequence[StreamPlan],
        *,
        jobnimbus: JobNimbusResource,
        connection: Borrow,
        months: Callable[[datetime | None], str] | None = None,
        run_id: str,
        floor: datetime,
        chunk_size: int = 5000,
        named: Named | None = None,
    ) -> None:
        self.plans = list(plans)
        self.jobnimbus = jobnimbus
        self.connection = connection  # pooled connections: the locks' session, landing
        self.months = months  # each record's partition (windows may span months)
        self.run_id = run_id
        self.floor = floor
        self.chunk_size = chunk_size
        self._limiter = jobnimbus.limiter()
        self._local = _Worker()
        self._opened: list[Any] = []
        self._opened_lock = threading.Lock()
        self._writers = threading.BoundedSemaphore(WRITERS)

        self.began = clock.now()  # reset when `run` starts: no mark may pass it
        self.named = named
        self.seen: dict[str, set[str]] = {}  # jnids the API returned for named records

    # ---------------------------------------------------------------- per-thread resources

    def _client(self) -> JobNimbusClient:
        if self._local.client is None:
            self._local.client = self.jobnimbus.get_client(self._limiter)
            with self._opened_lock:
                self._opened.append(self._local.client)
        return self._local.client

    def _close_all(self) -> None:
        for thing in self._opened:
            with contextlib.suppress(Exception):  # closing after a failure must not mask it
                thing.close()

    # ---------------------------------------------------------------- one window

    def _land(self, window: Window) -> WindowResult:
        client = self._client()
        pages = client.iter_window(window.stream, window.start, window.end)
        # One landing chunk read ahead: the next pages are on their way while this chunk lands.
        ahead = read_ahead(
            pages, batch=client.page_size, depth=max(2, self.chunk_size // client.page_size)
        )
        return self._land_records(window, ahead)

    def _land_ids(self, stream: Stream, ids: list[str], partition_key: str) -> WindowResult:
        """Records named by id (a window without dates, logged with NULL bounds)."""
        window = Window(stream, start=None, end=None, partition_key=partition_key)
        return self._land_records(window, self._client().fetch_ids(stream, ids))

    def _land_linked(
        self, stream: Stream, field: str, ids: list[str], partition_key: str
    ) -> WindowResult:
        """Records linked to named ones (the status changes of a named job), by id too."""
        window = Window(stream, start=None, end=None, partition_key=partition_key)
        return self._land_records(window, self._client().fetch_linked(stream, field, ids))

    def _land_named(self, stream: Stream, ids: list[str], partition_key: str) -> WindowResult:
        """Records a webhook named, noting which the API still lists."""
        seen = self.seen.setdefault(stream.name, set())

        def noted() -> Iterator[dict[str, Any]]:
            for record in self._client().fetch_ids(stream, ids):
                seen.add(record["jnid"])
                yield record

        window = Window(stream, start=None, end=None, partition_key=partition_key)
        return self._land_records(window, noted())

    def _land_records(self, window: Window, records: Iterator[dict[str, Any]]) -> WindowResult:
        """One window, its chunks written on pooled connections borrowed for each write: the
        landers of a load share a few connections (at most WRITERS write at once; a window
        mostly waits on the API) instead of holding one each."""
        client = self._client()
        name = window.stream.name
        before = client.stats.get(name, {})
        started, ticks = clock.now(), time.perf_counter()
        lander = Lander(
            None, window.stream, run_id=self.run_id, partition_key=window.partition_key,
            chunk_size=self.chunk_size, began=self.began, months=self.months,
            borrow=self._writer,
        )  # fmt: skip
        stats = lander.land(records)
        after = client.stats.get(name, {})
        requests = after.get("requests", 0) - before.get("requests", 0)
        retries = after.get("retries", 0) - before.get("retries", 0)
        log = {"run_id": self.run_id, "partition_key": window.partition_key, "resource": name,
               "window_start": window.start, "window_end": window.end, "requests": requests,
               "retries": retries, "max_date_updated": stats.high_water, "started_at": started,
               "finished_at": clock.now(), **stats.as_metadata()}  # fmt: skip
        return WindowResult(window, stats, requests, retries, time.perf_counter() - ticks, log)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[Any]:
        with self._writers, self.connection(relaxed=True) as conn:
            yield conn

    # ---------------------------------------------------------------- the whole load

    def run(self) -> Iterator[StreamResult]:
        """Land every window, then the records they reference that the warehouse lacks; then
        yield each stream's result with its state advanced."""
        self.began = clock.now()
        results = {p.stream.name: StreamResult(p) for p in self.plans}
        # The locks' session: given back to the pool once they are released, closed (which
        # releases them) when the load fails.
        with self.connection() as lock_conn:
            lock_conn.autocommit = True
            yield from self._run(lock_conn, results)

    def _run(self, lock_conn: Any, results: dict[str, StreamResult]) -> Iterator[StreamResult]:
        try:
            self._lock_streams(lock_conn, results)
            with ThreadPoolExecutor(
                max_workers=self.jobnimbus.max_concurrency + LANDERS, thread_name_prefix="gcc-load"
            ) as pool:
                # Month by month across streams: a large stream's windows (CPU-bound landing)
                # and small ones (mostly waiting on the API) overlap from start to end.
                months = zip_longest(*(p.windows for p in self.plans))
                windows = [(w,) for month in months for w in month if w]
                for (window,), landed in self._all(pool, self._land, windows):
                    results[window.stream.name].windows.append(landed)
                if self.named:
                    self._land_all_named(pool, results)
                self._fetch_references(pool, lock_conn, results)
            yield from self._finish(lock_conn, results)
        finally:
            self._close_all()

    @staticmethod
    def _all(
        pool: ThreadPoolExecutor, work: Callable[..., WindowResult], jobs: Sequence[tuple]
    ) -> Iterator[tuple[tuple, WindowResult]]:
        """`work(*job)` for each job in the pool, as each completes; the first failure cancels
        what has not started."""
        futures = {pool.submit(work, *job): job for job in jobs}
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures.pop(future)
                    yield job, future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def _fetch_references(
        self, pool: ThreadPoolExecutor, lock_conn: Any, results: dict[str, StreamResult]
    ) -> None:
        """Records the landed rows point at but the warehouse lacks (a job last changed before
        GCC_START_DATE, paid for inside it), fetched by id through the same landing. Only streams
        this load writes are completed, so a selection writes exactly what it records, and only
        when their load reaches the present: then all they hold from GCC_START_DATE on has
        landed, so what is still missing is older (a load of past months would fetch records of
        later months ahead of their status history)."""
        asked: dict[str, set[str]] = {}
        fresh = [r.stats for r in results.values()]
        for _ in range(REFERENCE_ROUNDS):
            wanted: dict[str, set[str]] = {}
            for stats in fresh:
                for target, ids in stats.referenced.items():
                    if target in results and results[target].plan.reaches_present:
                        wanted.setdefault(target, set()).update(ids - asked.get(target, set()))
            missing = self._missing(lock_conn, {results[t].plan.stream: ids for t, ids in
                                                 wanted.items()})  # fmt: skip
            jobs = []
            for target, ids in wanted.items():
                asked.setdefault(target, set()).update(ids)
                plan = results[target].plan
                key = plan.windows[0].partition_key if plan.windows else ""
                jobs += [(plan.stream, missing[target], key)] if missing.get(target) else []
            if not jobs:
                return
            fresh = []
            for (stream, _, _), landed in self._all(pool, self._land_ids, jobs):
                results[stream.name].by_id.append(landed)
                fresh.append(landed.stats)

    def _land_all_named(self, pool: ThreadPoolExecutor, results: dict[str, StreamResult]) -> None:
        """The records webhooks named, then what is linked to them, each stream at once."""
        assert self.named is not None
        key = self.named.partition_key
        jobs = [(results[n].plan.stream, ids, key) for n, ids in self.named.ids.items() if ids]
        for (stream, _, _), landed in self._all(pool, self._land_named, jobs):
            results[stream.name].by_id.append(landed)
        linked = [(results[n].plan.stream, field, ids, key)
                  for n, (field, ids) in self.named.linked.items() if ids]  # fmt: skip
        for (stream, *_), landed in self._all(pool, self._land_linked, linked):
            results[stream.name].by_id.append(landed)

    @staticmethod
    def _missing(conn: Any, wanted: dict[Stream, set[str]]) -> dict[str, list[str]]:
        """Of the ids each stream's rows are pointed at by, those its table lacks: one statement
        for every stream."""
        wanted = {stream: ids for stream, ids in wanted.items() if ids}
        if not wanted:
            return {}
        statement = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {}, id FROM ({}) m").format(
                sql.Literal(stream.name),
                sql.SQL(query("missing_ids")).format(
                    table=sql.Identifier(stream.table.name), ids=sql.Placeholder(f"ids_{n}")
                ),
            )
            for n, stream in enumerate(wanted)
        )
        params = {f"ids_{n}": sorted(ids) for n, ids in enumerate(wanted.values())}
        found: dict[str, list[str]] = {}
        with conn.cursor() as cur:
            cur.execute(statement, params)
            for name, id_ in sorted(cur.fetchall()):
                found.setdefault(name, []).append(id_)
        return found

    def _lock_streams(self, lock_conn: Any, results: dict[str, StreamResult]) -> None:
        asked = time.perf_counter()
        with lock_conn.cursor() as cur:
            cur.execute(query("ingest_lock"), {"resources": [p.stream.name for p in self.plans]})
        waited = time.perf_counter() - asked
        for result in results.values():
            result.waited_seconds = waited

    def _finish(self, lock_conn: Any, results: dict[str, StreamResult]) -> list[StreamResult]:
        """Every stream's state advanced in one transaction, then their locks released."""
        loads = []
        for result in results.values():
            plan = result.plan
            result.windows.sort(key=lambda w: w.window.start)
            loads.append(Completed(plan.stream.name, plan.since, plan.reaches_present, plan.end,
                                   result.window_stats.high_water))  # fmt: skip
        logs = [w.log for r in results.values() for w in (*r.windows, *r.by_id)]
        changed = sorted({
            r.plan.stream.table.name for r in results.values()
            if r.stats.inserted or r.stats.updated
        })  # fmt: skip
        # The windows' log rows (and which tables changed) open the transaction in which the
        # states are written; the locks are released as it commits.
        with lock_conn.cursor() as cur:
            first = [cur.mogrify(query("log_ingestion"), {"rows": json.dumps(logs, default=str)})]
            if changed:
                marks = {"tables": changed, "run_id": self.run_id}
                first.append(cur.mogrify(query("mark_changed"), marks))
            unlock = cur.mogrify(query("ingest_unlock"), {"resources": list(results)})
        # Records fetched by id say nothing of what else changed: no mark moves.
        states = advance(
            lock_conn, loads if self.named is None else [], floor=self.floor,
            run_id=self.run_id, began=self.began, first=first, then=unlock,
        )  # fmt: skip
        for name, result in results.items():
            result.state = states.get(name)
        return list(results.values())
