"""Measure the peer loader (dlt's rest_api source, bench/peer_dlt.py) on the bench's conditions.

    .venv/bin/python -m bench.peer                              # 20,000 jobs, 3 cases, ~2-4 min
    .venv/bin/python -m bench.peer --jobs 2000 --cases loopback # a quick look

Cases: ``loopback`` (sandbox and PostgreSQL local), ``api<N>`` (the sandbox waits N ms before
each page, e.g. ``api250``), ``pg<N>`` (PostgreSQL behind bench/netdelay.py, N ms each way, e.g.
``pg5``). Each case gets a fresh sandbox process (seed 1, anchor 2026-11-01, 1,065 days of
history by default: three years, as issue 11 asks), a scratch database ``benchpeer_*`` on the
POSTGRES_URL server (default: postgres@127.0.0.1:5432, dropped afterwards) and dlt in a process of
its own, so its peak RSS is its alone. Loaded rows are checked against the sandbox's counts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.netdelay import DelayProxy  # noqa: E402

KEY = "bench-key"
ANCHOR = "2026-11-01"
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(f"[peer {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class SandboxProcess:
    """``python -m gcc_pipeline.sandbox`` in its own process on a free port (own GIL)."""

    def __init__(self, jobs: int, history_days: int, seed: int, latency_ms: float) -> None:
        self.err = tempfile.TemporaryFile()  # noqa: SIM115  # closed by stop()
        cmd = [sys.executable, "-m", "gcc_pipeline.sandbox", "--jobs", str(jobs), "--seed",
               str(seed), "--port", "0", "--key", KEY, "--anchor", ANCHOR, "--history-days",
               str(history_days), "--latency-ms", f"{latency_ms:g}"]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.err, text=True
        )
        assert self.proc.stdout is not None
        self.base_url = ""
        for line in self.proc.stdout:
            if line.startswith("export JOBNIMBUS_BASE_URL="):
                self.base_url = line.split("=", 1)[1].strip()
                break
        if not self.base_url:
            self.stop()
            raise RuntimeError("the sandbox did not start")
        self.root = self.base_url.rsplit("/api1", 1)[0]

    def request(self, method: str, path: str) -> dict[str, Any]:
        req = urllib.request.Request(
            self.root + path, method=method, headers={"Authorization": f"Bearer {KEY}"}
        )
        with urllib.request.urlopen(req, timeout=300) as response:
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        return self.request("GET", "/sandbox/state")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.err.close()


def admin_url() -> str:
    url = os.environ.get("POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    url = url.replace("postgresql+psycopg2://", "postgresql://")
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def execute(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def run_peer(base_url: str, postgres_url: str, options: Sequence[str] = ()) -> dict[str, Any]:
    """bench/peer_dlt.py in a child process; its JSON plus wall time and the child's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="benchpeer-") as tmp:
        out = Path(tmp) / "out.json"
        err = Path(tmp) / "stderr"
        cmd = [sys.executable, "-m", "bench.peer_dlt", "--base-url", base_url, "--key", KEY,
               "--postgres-url", postgres_url, "--json", str(out), *options]  # fmt: skip
        started = time.perf_counter()
        with open(err, "w") as f:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=f)
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0 or not out.exists():
            raise RuntimeError(f"bench.peer_dlt failed:\n{err.read_text()[-4000:]}")
        result = json.loads(out.read_text())
    result["process_seconds"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def measure(
    case: str, jobs: int, history_days: int, seed: int, admin: str, latency_ms: float = 0.0,
    pg_delay_ms: float = 0.0, options: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """One case: a fresh sandbox process and scratch database, dlt's load, the count check."""
    name = f"benchpeer_{uuid.uuid4().hex[:8]}_{jobs}"
    execute(admin, f'CREATE DATABASE "{name}"')
    url = with_database(admin, name)
    sandbox = SandboxProcess(jobs, history_days, seed, latency_ms)
    proxy: DelayProxy | None = None
    try:
        counts = sandbox.state()["counts"]
        target = url
        if pg_delay_ms:
            proxy = DelayProxy.for_postgres(url, pg_delay_ms).start()
            target = proxy.rewrite_url(url)
        sandbox.request("POST", "/sandbox/reset-stats")
        load_avg = os.getloadavg()[0]
        result = run_peer(sandbox.base_url, target, options)
        stats = sandbox.state()
        expected = {r: counts[r] for r in result["records"]}
        result.update(
            {
                "case": case,
                "jobs": jobs,
                "history_days": history_days,
                "api_latency_ms": latency_ms,
                "pg_delay_ms": pg_delay_ms,
                "sandbox_counts": expected,
                "counts_match": expected == result["records"],
                "sandbox_api_requests": stats["api_requests"],
                "sandbox_max_in_flight": stats["max_in_flight"],
                "records_per_second": result["total_records"] / result["seconds"],
                "load_average_before": load_avg,
                "proxy": proxy.stats() if proxy else None,
            }
        )
        if not result["counts_match"]:
            log(f"{case}: loaded {result['records']} but the sandbox has {expected}")
        return result
    finally:
        if proxy is not None:
            proxy.stop()
        sandbox.stop()
        execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def parse_case(case: str) -> tuple[float, float]:
    """'loopback' -> (0, 0); 'api250' -> (250, 0); 'pg5' -> (0, 5)."""
    if case == "loopback":
        return 0.0, 0.0
    m = re.fullmatch(r"(api|pg)(\d+(?:\.\d+)?)", case)
    if not m:
        raise argparse.ArgumentTypeError(f"unknown case {case!r}: loopback, apiN or pgN")
    value = float(m.group(2))
    return (value, 0.0) if m.group(1) == "api" else (0.0, value)


def render(results: list[dict[str, Any]]) -> str:
    lines = [
        "| dlt rest_api (peer) | records | seconds | records/s | requests | extract / normalize"
        " / load s | peak RSS MB | counts |",
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        what = "loopback"
        if r["api_latency_ms"]:
            what = f"API {r['api_latency_ms']:g} ms per page"
        if r["pg_delay_ms"]:
            what = f"PostgreSQL behind {r['pg_delay_ms']:g} ms each way"
        if r.get("parallelized"):
            what += ", parallelized"
        if r.get("write_disposition", "merge") != "merge":
            what += f", {r['write_disposition']}"
        s = r["steps"]
        lines.append(
            f"| {what} | {r['total_records']:,} | {r['seconds']:.1f} | "
            f"{r['records_per_second']:,.0f} | {r['total_requests']} | "
            f"{s.get('extract', 0):.1f} / {s.get('normalize', 0):.1f} / {s.get('load', 0):.1f} | "
            f"{r['peak_rss_mb']:.0f} | {'exact' if r['counts_match'] else 'MISMATCH'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--history-days", type=int, default=1065)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--cases",
        default="loopback,api250,pg5",
        help="loopback, apiN (ms per page), pgN (ms each way), comma-separated",
    )
    p.add_argument("--write-disposition", choices=("merge", "replace"), default="merge")
    p.add_argument("--parallelized", action="store_true", help="dlt extracts resources at once")
    args = p.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    plans = [(c, *parse_case(c)) for c in cases]
    admin = admin_url()
    results = []
    for case, api_ms, pg_ms in plans:
        log(f"{case}: {args.jobs:,} jobs, {args.history_days} days of history")
        options = ["--write-disposition", args.write_disposition]
        if args.parallelized:
            options.append("--parallelized")
        r = measure(case, args.jobs, args.history_days, args.seed, admin, api_ms, pg_ms, options)
        log(f"{case}: {r['total_records']:,} records in {r['seconds']:.1f} s")
        results.append(r)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"peer-{time.strftime('%Y%m%d-%H%M%S')}.json"
    doc = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "results": results}
    path.write_text(json.dumps(doc, indent=2))
    print(render(results))
    print(f"\nresults: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
