"""bench/netdelay.py, the delaying TCP proxy that models a hosted PostgreSQL, with real psycopg2.

Time is asserted only as a lower bound (a delayed round trip is never shorter than two delays).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from bench.netdelay import DelayProxy

ROOT = Path(__file__).resolve().parent.parent


def test_round_trip_pays_both_delays(pg_server_url: str) -> None:
    with DelayProxy.for_postgres(pg_server_url, delay_ms=20) as proxy:
        conn = psycopg2.connect(proxy.rewrite_url(pg_server_url))
        try:
            cur = conn.cursor()
            times = []
            for _ in range(5):
                started = time.perf_counter()
                cur.execute("SELECT 1")
                assert cur.fetchone() == (1,)
                times.append(time.perf_counter() - started)
        finally:
            conn.close()
    assert min(times) >= 0.040  # 20 ms there and 20 ms back


def test_copy_goes_through_intact_both_ways(pg_server_url: str) -> None:
    payload = b"".join(b"%d\t%s\n" % (i, b"abc\\\\tdef" * 40) for i in range(25_000))  # ~9 MB
    with DelayProxy.for_postgres(pg_server_url, delay_ms=2) as proxy:
        conn = psycopg2.connect(proxy.rewrite_url(pg_server_url))
        conn.autocommit = True
        try:
            cur = conn.cursor()
            cur.execute("CREATE TEMP TABLE blob (i int, s text)")
            cur.copy_expert("COPY blob FROM STDIN", io.BytesIO(payload))
            out = io.BytesIO()
            cur.copy_expert("COPY (SELECT * FROM blob ORDER BY i) TO STDOUT", out)
        finally:
            conn.close()
        assert proxy.stats()["bytes_up"] > len(payload)
        assert proxy.stats()["bytes_down"] > len(payload)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(payload).digest()


def test_many_connections_at_once(pg_server_url: str) -> None:
    n = 12
    errors: list[BaseException] = []
    pids: set[int] = set()
    with DelayProxy.for_postgres(pg_server_url, delay_ms=5) as proxy:
        url = proxy.rewrite_url(pg_server_url)

        def client() -> None:
            try:
                conn = psycopg2.connect(url)
                try:
                    cur = conn.cursor()
                    for _ in range(10):
                        cur.execute("SELECT pg_backend_pid()")
                        pids.add(cur.fetchone()[0])
                finally:
                    conn.close()
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert len(pids) == n
        assert proxy.stats()["connections"] == n
        deadline = time.monotonic() + 10
        while proxy.stats()["open_connections"] and time.monotonic() < deadline:
            time.sleep(0.05)  # ok: polls until closes travel through the delay (10 s deadline)
        assert proxy.stats()["open_connections"] == 0


def test_command_line_prints_its_address(pg_server_url: str) -> None:
    target = DelayProxy.for_postgres(pg_server_url, 1).target
    where = target if isinstance(target, str) else f"{target[0]}:{target[1]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.netdelay", "--target", where, "--delay-ms", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        phost, _, pport = address.rpartition(":")
        parts = urlsplit(pg_server_url)
        conn = psycopg2.connect(
            host=phost,
            port=int(pport),
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        )
        with conn.cursor() as cur:
            cur.execute("SELECT 42")
            assert cur.fetchone() == (42,)
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == 0
