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
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    KEY,
    RESULTS,
    SandboxProcess,
    admin_url,
    clean_env,
    log,
    run_child,
    scratch_database,
)
from bench.netdelay import DelayProxy  # noqa: E402


def run_peer(base_url: str, postgres_url: str, options: Sequence[str] = ()) -> dict[str, Any]:
    """bench/peer_dlt.py in a child process; its JSON plus wall time and the child's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="benchpeer-") as tmp:
        out = Path(tmp) / "out.json"
        from bench.peer_dlt import registry_streams

        cmd = [sys.executable, "-m", "bench.peer_dlt", "--base-url", base_url, "--key", KEY,
               "--postgres-url", postgres_url, "--json", str(out),
               "--streams", json.dumps(registry_streams()), *options]  # fmt: skip
        child = run_child(cmd, clean_env())
        if child.returncode != 0 or not out.exists():
            raise RuntimeError(f"bench.peer_dlt failed:\n{child.stderr[-4000:]}")
        result = json.loads(out.read_text())
    result["process_seconds"] = child.seconds
    result["peak_rss_mb"] = child.peak_rss_mb
    return result


def measure(
    case: str, jobs: int, history_days: int, seed: int, admin: str, latency_ms: float = 0.0,
    pg_delay_ms: float = 0.0, options: Sequence[str] = (),
) -> dict[str, Any]:  # fmt: skip
    """One case: a fresh sandbox process and scratch database, dlt's load, the count check."""
    with (
        SandboxProcess(jobs, history_days, seed, latency_ms) as sandbox,
        scratch_database(admin, "peer") as url,
    ):
        counts = sandbox.state()["counts"]
        proxy = DelayProxy.for_postgres(url, pg_delay_ms).start() if pg_delay_ms else None
        try:
            sandbox.reset_stats()
            load_avg = os.getloadavg()[0]
            result = run_peer(sandbox.base_url, proxy.rewrite_url(url) if proxy else url, options)
            stats = sandbox.state()
        finally:
            if proxy is not None:
                proxy.stop()
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
    admin, _ = admin_url()
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
