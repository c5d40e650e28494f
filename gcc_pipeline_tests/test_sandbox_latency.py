"""The sandbox's modelled API latency and its in-flight counters, over real loopback HTTP.

The bench models a distant API with ``latency_ms``; concurrency tests read ``max_in_flight`` to
check a client's bound. Timing is asserted only where it is the point: a delay is at least its
length (a lower bound), and parallel requests overlap (generous upper bounds).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from gcc_pipeline.sandbox import Company, CompanyConfig, SandboxServer, start_sandbox
from gcc_pipeline.sandbox.command import configure

KEY = "latency-key"
DELAY_MS = 300


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    cfg = CompanyConfig(jobs=300, seed=5, anchor=datetime(2026, 11, 1, tzinfo=UTC))
    with SandboxServer(Company(cfg), api_key=KEY, latency_ms=DELAY_MS) as server:
        yield server


@pytest.fixture
def fresh(sandbox: SandboxServer) -> SandboxServer:
    """The shared server at the default delay with zeroed counters."""
    sandbox.latency_ms = DELAY_MS
    session_post(sandbox, "/sandbox/reset-stats")
    return sandbox


def session() -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {KEY}"
    return s


def session_post(sb: SandboxServer, path: str) -> dict:
    with session() as s:
        r = s.post(sb.url + path, timeout=30)
        r.raise_for_status()
        return r.json()


def state(sb: SandboxServer) -> dict:
    with session() as s:
        r = s.get(sb.url + "/sandbox/state", timeout=30)
        r.raise_for_status()
        return r.json()


def get_page(s: requests.Session, sb: SandboxServer, frm: int) -> list[dict]:
    r = s.get(f"{sb.base_url}/jobs", params={"size": 100, "from": frm}, timeout=30)
    r.raise_for_status()
    return r.json()["results"]


def test_each_page_waits_the_delay(fresh: SandboxServer) -> None:
    with session() as s:
        started = time.perf_counter()
        pages = [get_page(s, fresh, frm) for frm in (0, 100, 200)]
        elapsed = time.perf_counter() - started
    assert [len(p) for p in pages] == [100, 100, 100]
    assert elapsed >= 3 * DELAY_MS / 1000  # a sleep is never shorter than asked
    st = state(fresh)
    assert st["api_requests"] == 3
    assert st["max_in_flight"] == 1  # one keep-alive connection, strictly sequential
    assert st["in_flight"] == 0
    assert st["latency_ms"] == DELAY_MS


def test_admin_endpoints_are_not_delayed(fresh: SandboxServer) -> None:
    fresh.latency_ms = 20_000  # any delayed call would take 20 s
    started = time.perf_counter()
    st = state(fresh)
    session_post(fresh, "/sandbox/reset-stats")
    assert time.perf_counter() - started < 10
    assert st["api_requests"] == 0


def test_parallel_requests_wait_in_parallel(fresh: SandboxServer) -> None:
    fresh.latency_ms = 1500  # every request arrives well within one delay, even on a busy machine
    n = 8
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []
    sizes: list[int] = []

    def worker(i: int) -> None:
        try:
            with session() as s:
                barrier.wait(timeout=10)
                sizes.append(len(get_page(s, fresh, 10 * i)))
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sizes == [100] * n
    st = state(fresh)
    assert st["max_in_flight"] == n  # all n delays overlapped: they were slept in parallel
    assert st["api_requests"] == n
    assert st["in_flight"] == 0


def test_in_flight_is_visible_while_requests_wait(fresh: SandboxServer) -> None:
    fresh.latency_ms = 1500
    done = threading.Event()

    def slow() -> None:
        with session() as s:
            get_page(s, fresh, 0)
        done.set()

    threads = [threading.Thread(target=slow) for _ in range(3)]
    for t in threads:
        t.start()
    seen = 0
    deadline = time.monotonic() + 10
    while seen < 3 and not done.is_set() and time.monotonic() < deadline:
        seen = max(seen, state(fresh)["in_flight"])
        time.sleep(0.02)  # ok: polls the admin endpoint while three requests sleep
    for t in threads:
        t.join(30)
    assert seen == 3
    after = state(fresh)
    assert after["in_flight"] == 0
    assert after["max_in_flight"] == 3
    reset = session_post(fresh, "/sandbox/reset-stats")
    assert reset["max_in_flight"] == 0
    assert reset["api_requests"] == 0


def test_errors_and_unknown_paths_leave_the_counter_balanced(fresh: SandboxServer) -> None:
    fresh.latency_ms = 0
    with session() as s:
        assert s.get(f"{fresh.base_url}/jobs", params={"size": 5000}, timeout=30).status_code == 400
        assert s.get(f"{fresh.base_url}/nothing-here", timeout=30).status_code == 404
        assert s.post(f"{fresh.base_url}/jobs", timeout=30).status_code == 405
    st = state(fresh)
    assert st["in_flight"] == 0
    assert st["api_requests"] == 3


def test_command_and_start_sandbox_take_the_delay() -> None:
    args = configure(argparse.ArgumentParser()).parse_args(["--latency-ms", "250"])
    assert args.latency_ms == 250
    assert configure(argparse.ArgumentParser()).parse_args([]).latency_ms == 0
    server = start_sandbox(jobs=50, seed=2, api_key=KEY, latency_ms=40, anchor="2026-11-01")
    try:
        assert server.latency_ms == 40
        assert state(server)["latency_ms"] == 40
    finally:
        server.stop()
