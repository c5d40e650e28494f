"""The pipeline's performance against its targets, with dlt's rest_api as the peer, in one run.

    .venv/bin/python -m bench                       # 20,000 jobs, 3 years: every case (~15 min)
    .venv/bin/python -m bench --cases loopback      # one case
    .venv/bin/python -m bench --jobs 3000           # a smaller company (a quick look)
    .venv/bin/python -m bench --render bench/results/bench-....json

Cases (each on a sandbox in its own process, seed 1, anchor 2026-11-01, GCC_START_DATE the month
of its oldest record, every database a scratch one on POSTGRES_URL's server or an embedded one):
- loopback: the floor (bench/floor.py); dlt's load; `gcc run` (first load, end to end); the
  dashboard queries; the sandbox moves on until 1% of its records changed, a second `gcc run`
  (catch-up); a scheduled incremental run under `dagster-daemon` with nothing new; a fresh
  `gcc run` with GCC_START_DATE five years earlier, whose warehouse must equal the caught-up one.
- api: the same company with a delay before every API page (--latency-ms): `gcc run` and dlt.
- pg: PostgreSQL (warehouse and Dagster storage) as a hosted server: TLS required and verified
  (bench/tlsproxy.py; --pg-plain leaves it out) behind bench/netdelay.py (--pg-delay-ms each
  way): `gcc run`, against loopback's first load.
Targets are printed beside the figures; nothing fails on them. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dashboard, report  # noqa: E402
from bench.common import (  # noqa: E402
    ANCHOR,
    KEY,
    RESULTS,
    SandboxProcess,
    admin_url,
    clean_env,
    log,
    query,
    run_child,
    scratch_database,
)
from bench.daemon import scheduled_run  # noqa: E402
from bench.gcc import Target, gcc_run  # noqa: E402
from bench.netdelay import DelayProxy  # noqa: E402
from bench.peer import run_peer  # noqa: E402
from bench.tlsproxy import Certificates, hosted_postgres  # noqa: E402

CASES = ("loopback", "api", "pg")


def account_start(sandbox: SandboxProcess) -> str:
    """GCC_START_DATE of the bench: the month of the sandbox's oldest record (contacts predate
    their first job), so every load covers the whole account and any two compare equal."""
    from gcc_pipeline.jobnimbus import JobNimbusResource
    from gcc_pipeline.pipeline_run import oldest_record

    oldest = oldest_record(JobNimbusResource(api_key=KEY, base_url=sandbox.base_url))
    if oldest is None:
        raise RuntimeError("the sandbox has no record with a readable date")
    return oldest.date().replace(day=1).isoformat()


def years_earlier(start: str, years: int) -> str:
    d = date.fromisoformat(start)
    return d.replace(year=d.year - years).isoformat()


def checksums(url: str) -> dict[str, Any]:
    import psycopg2

    from gcc_pipeline_tests.warehouse_state import table_checksums

    with psycopg2.connect(url) as conn:
        return table_checksums(conn)


def floor(sandbox: SandboxProcess, admin: str) -> dict[str, Any]:
    with scratch_database(admin, "floor") as url:
        child = run_child([sys.executable, "-m", "bench.floor", "--base-url", sandbox.base_url,
                           "--key", KEY, "--url", url], clean_env())  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(f"bench.floor failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout)


def peer(sandbox: SandboxProcess, admin: str) -> dict[str, Any]:
    with scratch_database(admin, "peer") as url:
        sandbox.reset_stats()
        result = run_peer(sandbox.base_url, url)
        result["max_in_flight"] = sandbox.state()["max_in_flight"]
        return result


def first_load(sandbox: SandboxProcess, url: str, start: str, home: Path, **kw: Any) -> dict:
    sandbox.reset_stats()
    result = gcc_run(Target(sandbox.base_url, url, start, home), url, **kw)
    result["max_in_flight"] = sandbox.state()["max_in_flight"]
    return result


def advance_one_percent(sandbox: SandboxProcess, records: int, history_days: int) -> dict:
    """Move the sandbox clock until at least 1% of its records were created or changed."""
    days = max(1, math.ceil(0.01 * records / (records / history_days)))
    changed: dict[str, int] = {}
    while sum(changed.values()) < 0.01 * records:
        for name, n in sandbox.advance(days)["changed"].items():
            changed[name] = changed.get(name, 0) + n
        days = 1
    return changed


def loopback(args: argparse.Namespace, admin: str, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with SandboxProcess(args.jobs, args.history_days) as sandbox:
        start = out["start_date"] = account_start(sandbox)
        out["records"] = sum(sandbox.state()["counts"].values())
        log(f"loopback: {out['records']:,} API records; the floor")
        out["floor"] = floor(sandbox, admin)
        log(f"loopback: floor {out['floor']['seconds']:.1f} s; dlt")
        out["peer"] = peer(sandbox, admin)
        log(f"loopback: dlt {out['peer']['seconds']:.1f} s; gcc run (first load)")
        with scratch_database(admin, "gcc") as url:
            home = tmp / "loopback"
            out["first"] = first_load(sandbox, url, start, home, profile=args.profile)
            log(f"loopback: gcc run {out['first']['seconds']:.1f} s; dashboard queries")
            out["dashboard"] = dashboard.measure(url, args.reps)
            out["changed"] = advance_one_percent(sandbox, out["records"], args.history_days)
            log(f"loopback: sandbox moved on ({sum(out['changed'].values()):,} records); catch-up")
            target = Target(sandbox.base_url, url, start, home)
            out["second"] = gcc_run(target, url)
            log(f"loopback: catch-up {out['second']['seconds']:.1f} s; scheduled run (daemon)")
            if not args.no_daemon:
                out["scheduled"] = scheduled_run(target, url)
            log("loopback: fresh gcc run, GCC_START_DATE five years earlier")
            earlier = years_earlier(start, 5)
            with scratch_database(admin, "gcc5y") as url5:
                out["five_years_earlier"] = gcc_run(
                    Target(sandbox.base_url, url5, earlier, tmp / "loopback5"), url5
                )
                out["five_years_earlier"]["start_date"] = earlier
                out["caught_up_equals_fresh"] = checksums(url) == checksums(url5)
    return out


def api(args: argparse.Namespace, admin: str, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"latency_ms": args.latency_ms}
    with SandboxProcess(args.jobs, args.history_days, latency_ms=args.latency_ms) as sandbox:
        start = account_start(sandbox)
        log(f"api {args.latency_ms:g} ms per page: gcc run")
        with scratch_database(admin, "gccapi") as url:
            out["gcc"] = first_load(sandbox, url, start, tmp / "api")
        log(f"api: gcc run {out['gcc']['seconds']:.1f} s; dlt")
        out["peer"] = peer(sandbox, admin)
        log(f"api: dlt {out['peer']['seconds']:.1f} s")
    return out


def pg(args: argparse.Namespace, admin: str, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"delay_ms": args.pg_delay_ms, "tls": not args.pg_plain}
    how = "plain" if args.pg_plain else "TLS (verify-full)"
    with SandboxProcess(args.jobs, args.history_days) as sandbox:
        start = account_start(sandbox)
        log(f"pg {args.pg_delay_ms:g} ms each way, {how}: gcc run")
        with scratch_database(admin, "gccpg") as url, distant(url, args, tmp) as (far, stats):
            before = _cpu_seconds()
            out["gcc"] = gcc_run(Target(sandbox.base_url, far, start, tmp / "pg"), url)
            # the proxies run in this process: what relaying (and decrypting) cost its CPUs
            out["proxy"] = stats() | {"cpu_seconds": _cpu_seconds() - before}
        log(f"pg: gcc run {out['gcc']['seconds']:.1f} s")
    return out


@contextlib.contextmanager
def distant(
    url: str, args: argparse.Namespace, tmp: Path
) -> Iterator[tuple[str, Callable[[], dict[str, Any]]]]:
    """`url`'s server --pg-delay-ms away, TLS required unless --pg-plain: the URL to use and
    the proxies' counts."""
    if args.pg_plain:
        with DelayProxy.for_postgres(url, args.pg_delay_ms) as proxy:
            yield proxy.rewrite_url(url), proxy.stats
        return
    with hosted_postgres(url, Certificates.create(tmp / "pg-certs"), args.pg_delay_ms) as hosted:
        yield hosted.url, hosted.stats


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--history-days", type=int, default=1065, help="(1065: three years)")
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {CASES}")
    p.add_argument("--latency-ms", type=float, default=250, help="API case: delay per page")
    p.add_argument("--pg-delay-ms", type=float, default=5, help="pg case: delay each way")
    p.add_argument("--pg-plain", action="store_true", help="pg case: without TLS")
    p.add_argument("--reps", type=int, default=50, help="dashboard query repetitions")
    p.add_argument("--no-daemon", action="store_true", help="skip the scheduled run")
    p.add_argument("--profile", action="store_true",
                   help="record the first load with py-spy (must be installed)")  # fmt: skip
    p.add_argument("--render", metavar="JSON", help="print the table of saved results and exit")
    args = p.parse_args(argv)
    if args.render:
        print(report.render(json.loads(Path(args.render).read_text())))
        return 0
    args.profile = "first-load" if args.profile else None
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := set(cases) - set(CASES):
        p.error(f"unknown cases {sorted(unknown)}; choose from {CASES}")
    admin, where = admin_url()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": f"{where}, PostgreSQL {query(admin, 'SHOW server_version')[0][0]}",
        "jobs": args.jobs, "history_days": args.history_days, "anchor": ANCHOR,
        "cpus": os.cpu_count(), "load": [os.getloadavg()[0]], "profiled": bool(args.profile),
    }  # fmt: skip
    log(f"{args.jobs:,} jobs, {args.history_days} days of history; PostgreSQL: {where}")
    with tempfile.TemporaryDirectory(prefix="gcc-bench-") as tmp:
        for case in cases:
            results[case] = {"loopback": loopback, "api": api, "pg": pg}[case](
                args, admin, Path(tmp)
            )
    results["bench_seconds"] = time.perf_counter() - started
    results["load"].append(os.getloadavg()[0])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(report.render(results))
    print(f"\nresults: {path.relative_to(ROOT)}; the bench took {results['bench_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
