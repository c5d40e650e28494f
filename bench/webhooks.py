"""Webhooks in real time, under `gcc dev`: lag from a webhook's POST to the job's new status in
`jobs` and `analytics.jobs_current`, a burst of 1,000 webhooks, and the receiver's latency at a
steady 100 requests a second.

`python -m bench.webhooks [--jobs 2000] [--moves 60]`. The bench serves a sandbox company of its
own (anchored some days ago, its clock moved by the bench, never past the wall clock), loads it
with `gcc run`, then starts `gcc dev` on it with JOBNIMBUS_WEBHOOK_SECRET set (UI, daemon,
sensors and the receiver) and posts, for each change it makes the company, the webhooks a
JobNimbus automation would. Figures are printed beside their targets; nothing fails on them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import quantiles

import psycopg2
import requests

from bench.common import KEY, ROOT, clean_env, log, run_child
from gcc_pipeline.sandbox import start_sandbox
from gcc_pipeline.sandbox.webhooks import SECRET_HEADER, deliveries

SECRET = "bench-webhook-secret-3c1d"
PATH = "/webhooks/jobnimbus"
STEP_MINUTES = 180  # company time per move of its clock (a few status moves each)
STEP_SECONDS = 1.0  # wall time between moves


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


_local = threading.local()


def post(url: str, document: object, query: str = "") -> tuple[int, float]:
    """(status, seconds) of one webhook POST, on this thread's keep-alive session."""
    session = getattr(_local, "session", None) or requests.Session()
    _local.session = session
    started = time.perf_counter()
    try:
        response = session.post(
            f"{url}?{query}" if query else url, data=json.dumps(document),
            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}, timeout=30,
        )  # fmt: skip
        status = response.status_code
    except requests.RequestException:
        status = 0
    return status, time.perf_counter() - started


class Dev:
    """`gcc dev` on the bench's sandbox, stopped (whole tree) on exit."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.log_path = log_path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gcc_pipeline.cli", "dev", "--port", str(port)], cwd=ROOT,
            env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_for(self, url: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gcc dev exited:\n" + self.log_path.read_text()[-3000:])
            with contextlib.suppress(requests.RequestException):
                if requests.get(url, timeout=2).status_code < 500:
                    return
            time.sleep(1)  # ok: polling until it listens
        raise RuntimeError(f"{url} never answered:\n" + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def warehouse_url(env: dict[str, str]) -> str:
    child = run_child([sys.executable, "-m", "gcc_pipeline.cli", "db", "url"], env, timeout=120)
    return child.stdout.strip().splitlines()[-1]


def statuses(conn, ids: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, status_name FROM jobs WHERE id = ANY(%s)", (ids,))
        jobs = dict(cur.fetchall())
        cur.execute(
            "SELECT job_id, status_name FROM analytics.jobs_current WHERE job_id = ANY(%s)", (ids,)
        )
        return jobs, dict(cur.fetchall())


def lag(company, url: str, db: str, moves: int, timeout: float) -> dict[str, object]:
    """Move the company's clock step by step, post each step's webhooks, and time each job status
    move from its POST until `jobs` and `analytics.jobs_current` show it."""
    known = {j["jnid"]: j.get("status_name") for j in company.records("jobs")}
    pending: dict[str, tuple[str, float]] = {}  # jnid -> (new status, posted at)
    in_jobs: list[float] = []
    in_view: list[float] = []
    not_live = 0
    posted = failed = 0
    conn = psycopg2.connect(db)
    conn.autocommit = True
    deadline = time.monotonic() + timeout
    next_step = time.monotonic()
    seen_jobs: dict[str, float] = {}
    try:
        while time.monotonic() < deadline and (len(in_jobs) < moves or pending):
            now = time.monotonic()
            if len(in_jobs) + len(pending) < moves and now >= next_step:
                moment = min(company.now + STEP_MINUTES * 60, time.time() - 5)
                changes = company.advance_to_changes(moment)
                for query, document in deliveries(changes):
                    record = document.get("body", document)
                    status, _ = post(url, document, query)
                    posted += status == 200
                    failed += status != 200
                    jnid = record.get("jnid")
                    if record.get("type") != "job":
                        continue
                    if jnid not in known:  # a new job: its first status is no move
                        known[jnid] = record.get("status_name")
                    elif record.get("status_name") != known[jnid]:
                        known[jnid] = record.get("status_name")
                        pending[record["jnid"]] = (record.get("status_name"), time.monotonic())
                        seen_jobs.pop(record["jnid"], None)
                next_step = now + STEP_SECONDS
            if pending:
                jobs, view = statuses(conn, list(pending))
                at = time.monotonic()
                for jnid, (status, posted_at) in list(pending.items()):
                    if jobs.get(jnid) == status and jnid not in seen_jobs:
                        seen_jobs[jnid] = at - posted_at
                    if jnid in seen_jobs and (view.get(jnid) == status or jnid not in view):
                        in_jobs.append(seen_jobs.pop(jnid))
                        if jnid in view:
                            in_view.append(at - posted_at)
                        else:
                            not_live += 1  # archived, inactive or a test record: not in the view
                        del pending[jnid]
            time.sleep(0.25)  # ok: polling the warehouse for the new statuses
    finally:
        conn.close()
    return {
        "status_moves_seen": len(in_jobs),
        "status_moves_missing_at_timeout": len(pending),
        "webhooks_posted": posted,
        "webhooks_failed": failed,
        "jobs_lag_p50_s": round(pct(in_jobs, 50), 2),
        "jobs_lag_p95_s": round(pct(in_jobs, 95), 2),
        "jobs_current_lag_p50_s": round(pct(in_view, 50), 2),
        "jobs_current_lag_p95_s": round(pct(in_view, 95), 2),
        "jobs_current_moves": len(in_view),
        "moves_of_jobs_not_in_jobs_current": not_live,
    }


def scalar(db: str, statement: str) -> object:
    with psycopg2.connect(db) as conn, conn.cursor() as cur:
        cur.execute(statement)
        return cur.fetchone()[0]


HISTORY_DUPLICATES = (
    "SELECT count(*) - count(DISTINCT (job_id, changed_at, status_name)) FROM job_status_history"
)


def burst(company, url: str, db: str, size: int, timeout: float) -> dict[str, object]:
    """`size` distinct webhooks at once (32 senders); then until every one is processed."""
    jobs = list(company.records("jobs"))
    documents = [
        ({**jobs[i % len(jobs)], "bench_delivery": i}, "event=modified") for i in range(size)
    ]
    before = scalar(db, "SELECT count(*) FROM jobnimbus_webhook_events")
    history = scalar(db, "SELECT count(*) FROM job_status_history")
    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda d: post(url, d[0], d[1]), documents))
    seconds = time.perf_counter() - started
    stored = scalar(db, "SELECT count(*) FROM jobnimbus_webhook_events") - before
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = scalar(
            db, "SELECT count(*) FROM jobnimbus_webhook_events WHERE processed_at IS NULL"
        )
        if not left:
            break
        time.sleep(0.5)  # ok: polling until the webhook runs processed the burst
    processed = time.perf_counter() - started
    return {
        "burst_webhooks": size,
        "burst_seconds": round(seconds, 2),
        "burst_answered_2xx": sum(200 <= s < 300 for s, _ in answers),
        "burst_stored": stored,
        "burst_all_processed_after_s": round(processed, 1) if not left else None,
        "burst_left_unprocessed": left,
        "history_rows_added_by_burst": scalar(db, "SELECT count(*) FROM job_status_history")
        - history,
        "history_duplicate_rows": scalar(db, HISTORY_DUPLICATES),
    }


def steady(company, url: str, rate: float, seconds: float) -> dict[str, object]:
    """POSTs at a steady `rate` per second for `seconds`: the receiver's own latency."""
    jobs = list(company.records("jobs"))
    total = int(rate * seconds)
    started = time.perf_counter() + 0.5

    def one(i: int) -> tuple[int, float]:
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)  # ok: pacing the requests at the rate
        return post(url, {**jobs[i % len(jobs)], "bench_steady": i}, "event=modified")

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(total)))
    latencies = [s * 1000 for _, s in answers]
    return {
        "steady_requests": total,
        "steady_rate_per_s": rate,
        "steady_2xx": sum(200 <= s < 300 for s, _ in answers),
        "receiver_p50_ms": round(pct(latencies, 50), 1),
        "receiver_p99_ms": round(pct(latencies, 99), 1),
    }


@contextlib.contextmanager
def environment(jobs: int, days_back: int) -> Iterator[tuple[object, dict[str, str], Path]]:
    anchor = (datetime.now(UTC) - timedelta(days=days_back)).replace(second=0, microsecond=0)
    server = start_sandbox(
        jobs=jobs, seed=1, api_key=KEY, anchor=anchor, history_days=365, future_days=days_back + 2
    )
    home = Path(tempfile.mkdtemp(prefix="gcc-bench-webhooks-"))
    env = clean_env(
        GCC_HOME=str(home / "state"), JOBNIMBUS_API_KEY=KEY, JOBNIMBUS_BASE_URL=server.base_url,
        JOBNIMBUS_WEBHOOK_SECRET=SECRET, GCC_WEBHOOK_PORT=str(free_port()),
        GCC_START_DATE=(anchor - timedelta(days=370)).date().isoformat(),
    )  # fmt: skip
    try:
        yield server, env, home
    finally:
        run_child([sys.executable, "-m", "gcc_pipeline.cli", "db", "stop"], env, timeout=120)
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)  # gcc dev's sandbox size
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    figures: dict[str, object] = {"jobs": args.jobs}
    with environment(args.jobs, days_back=30) as (server, env, home):
        company = server.company
        log(f"sandbox: {args.jobs} jobs at {server.base_url}; loading it with gcc run")
        first = run_child([sys.executable, "-m", "gcc_pipeline.cli", "run"], env, timeout=1800)
        if first.returncode:
            raise SystemExit("gcc run failed:\n" + first.stderr[-3000:])
        figures["initial_gcc_run_s"] = round(first.seconds, 1)
        db = warehouse_url(env)
        ui = free_port()
        dev = Dev(env, ui, home / "dev.log")
        try:
            dev.wait_for(f"http://127.0.0.1:{ui}/server_info")
            hook = f"http://127.0.0.1:{env['GCC_WEBHOOK_PORT']}"
            dev.wait_for(f"{hook}/health")
            log("gcc dev is up (UI, daemon, receiver); moving the company")
            url = hook + PATH
            figures |= lag(company, url, db, args.moves, args.timeout)
            log(f"lag measured; a burst of {args.burst}")
            figures |= burst(company, url, db, args.burst, args.timeout)
            log(f"burst done; {args.rate:g} requests/s for 10 s")
            figures |= steady(company, url, args.rate, 10.0)
        finally:
            dev.stop()
    targets = {
        "jobs_lag_p95_s": "< 60 (aim 20)",
        "jobs_current_lag_p95_s": "< 60 (aim 20)",
        "burst_seconds": "< 10, all 2xx, all stored",
        "history_duplicate_rows": "0",
        "receiver_p99_ms": "< 50",
    }
    width = max(map(len, figures))
    for name, value in figures.items():
        if value is None:
            continue
        target = f"   target {targets[name]}" if name in targets else ""
        print(f"{name:<{width}}  {value}{target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
