"""PostgreSQL round trips of `gcc run`, per component, behind a delay line (a hosted database).

    .venv/bin/python -m bench.roundtrips [--jobs 1000] [--history-days 546] [--delay-ms 5]

A first load and then a catch-up with nothing new, each locally and behind `--delay-ms` each way
(bench/netdelay.py, which counts client bursts per application_name: the warehouse and each of
Dagster's storages), with their seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import SandboxProcess, admin_url, log, scratch_database
from bench.gcc import Target, gcc_run
from bench.netdelay import DelayProxy


def measure(base_url: str, admin: str, start: str, tmp: Path, delay_ms: float) -> dict[str, Any]:
    out: dict[str, Any] = {"delay_ms": delay_ms}
    for where in ("local", "delayed"):
        with scratch_database(admin, f"rt{where}") as url:
            proxy = DelayProxy.for_postgres(url, delay_ms if where == "delayed" else 0).start()
            try:
                target = Target(base_url, proxy.rewrite_url(url), start, tmp / where)
                first = gcc_run(target, url)
                first["proxy"] = proxy.stats()
                proxy.reset_counts()
                again = gcc_run(target, url)
                again["proxy"] = proxy.stats()
            finally:
                proxy.stop()
        out[where] = {"first": first, "catch_up": again}
        trips = (first["proxy"]["round_trips"], again["proxy"]["round_trips"])
        log(f"{where}: first {first['seconds']:.1f} s, catch-up {again['seconds']:.1f} s; "
            f"round trips {trips[0]}, {trips[1]}")  # fmt: skip
    return out


def render(out: dict[str, Any]) -> str:
    lines = [f"| run | local s | behind {out['delay_ms']:g} ms each way s | ratio | round trips "
             "(warehouse / Dagster runs / events / schedules / other) | connections |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for run in ("first", "catch_up"):
        local, far = out["local"][run], out["delayed"][run]
        apps = far["proxy"]["by_application"]

        def n(app: str, what: str = "round_trips", apps: dict = apps) -> int:
            return apps.get(app, {}).get(what, 0)

        known = ("gcc-warehouse", "gcc-dagster-runs", "gcc-dagster-events", "gcc-dagster-schedules")
        other = sum(v["round_trips"] for k, v in apps.items() if k not in known)
        trips = " / ".join(str(n(a)) for a in known) + f" / {other}"
        connections = sum(v["connections"] for v in apps.values())
        lines.append(
            f"| {run} | {local['seconds']:.1f} | {far['seconds']:.1f} | "
            f"{far['seconds'] / local['seconds']:.2f}x | {far['proxy']['round_trips']} "
            f"({trips}) | {connections} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.roundtrips", description=__doc__.split("\n")[0]
    )
    p.add_argument("--jobs", type=int, default=1000)
    p.add_argument("--history-days", type=int, default=546)
    p.add_argument("--delay-ms", type=float, default=5.0)
    p.add_argument("--start-date", default=None, help="GCC_START_DATE (the sandbox's oldest month)")
    args = p.parse_args(argv)
    admin, where = admin_url()
    log(f"{args.jobs} jobs over {args.history_days} days; PostgreSQL: {where}")
    with (
        SandboxProcess(args.jobs, args.history_days) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        from bench.run import account_start

        start = args.start_date or account_start(sandbox)
        out = measure(sandbox.base_url, admin, start, Path(tmp), args.delay_ms)
    print(render(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
