"""The owners' topology (issue 19): an API stand-in that favours no client, a distant and
rate-limited API, a distant PostgreSQL; gcc against dlt in the same run, with requests, round
trips, records/s and the share of the fetch floor.

    .venv/bin/python -m bench.topology              # 20,000 jobs over 3 years, every case
    .venv/bin/python -m bench.topology --quick      # 3,000 jobs, a look in a few minutes

Every API is bench/standin.py in a process of its own (pre-encoded records, the same cost for any
access pattern); every database a scratch one on POSTGRES_URL's server (else an embedded one).
PostgreSQL delays go through bench/netdelay.py, which counts round trips per application_name.
Targets are printed beside the figures; nothing fails on them.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    ANCHOR,
    KEY,
    RESULTS,
    admin_url,
    clean_env,
    log,
    query,
    run_child,
    scratch_database,
)
from bench.gcc import Target, gcc_run  # noqa: E402
from bench.netdelay import DelayProxy  # noqa: E402
from bench.peer import run_peer  # noqa: E402
from bench.roundtrips import measure as roundtrips  # noqa: E402
from gcc_pipeline.streams import STREAMS as REGISTRY  # noqa: E402

PAGE = 1000
STREAMS = len(REGISTRY)  # the request bound's few requests per stream


class Standin:
    """bench/standin.py in its own process."""

    def __init__(self, jobs: int, history_days: int, latency_ms: float = 0) -> None:
        cmd = [sys.executable, "-m", "bench.standin", "--jobs", str(jobs), "--history-days",
               str(history_days), "--anchor", ANCHOR,
               "--latency-ms", f"{latency_ms:g}"]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=clean_env(),
        )  # fmt: skip
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("export JOBNIMBUS_BASE_URL="):
            raise RuntimeError("the stand-in did not start")
        self.base_url = line.split("=", 1)[1].strip()
        self.root = self.base_url.rsplit("/api1", 1)[0]

    def state(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.root + "/standin/state", timeout=30) as r:
            return json.loads(r.read())

    def reset(self) -> None:
        import urllib.request

        req = urllib.request.Request(self.root + "/standin/reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=30).close()

    def __enter__(self) -> Standin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def start_of(standin: Standin) -> str:
    from gcc_pipeline.jobnimbus import JobNimbusResource
    from gcc_pipeline.pipeline_run import oldest_record

    oldest = oldest_record(JobNimbusResource(api_key=KEY, base_url=standin.base_url))
    assert oldest is not None
    return oldest.date().replace(day=1).isoformat()


def gcc_first_load(standin: Standin, admin: str, home: Path, start: str, **env: str) -> dict:
    standin.reset()
    with scratch_database(admin, "topo") as url:
        result = gcc_run(Target(standin.base_url, url, start, home), url, env=env)
        result["api_requests"] = standin.state()["requests"]
        result["records"] = sum(n for (n,) in query(
            url, "SELECT count(*) FROM jobnimbus_raw_events"))  # fmt: skip
    return result


def gcc_behind(standin: Standin, admin: str, home: Path, start: str, delay_ms: float) -> dict:
    with scratch_database(admin, "topopg") as url:
        proxy = DelayProxy.for_postgres(url, delay_ms).start()
        try:
            result = gcc_run(Target(standin.base_url, proxy.rewrite_url(url), start, home), url)
            result["proxy"] = proxy.stats()
        finally:
            proxy.stop()
    return result


def dlt(standin: Standin, admin: str) -> dict:
    standin.reset()
    with scratch_database(admin, "topodlt") as url:
        result = run_peer(standin.base_url, url)
    result["api_requests"] = standin.state()["requests"]
    return result


def floor(standin: Standin, admin: str) -> dict:
    with scratch_database(admin, "topofloor") as url:
        child = run_child([sys.executable, "-m", "bench.floor", "--base-url", standin.base_url,
                           "--key", KEY, "--url", url], clean_env())  # fmt: skip
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-3000:])
    return json.loads(child.stdout)


def run(args: argparse.Namespace) -> dict[str, Any]:
    admin, where = admin_url()
    out: dict[str, Any] = {"jobs": args.jobs, "history_days": args.history_days,
                           "postgres": where}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gcc-topology-") as tmp:
        home = Path(tmp)
        with Standin(args.jobs, args.history_days) as standin:
            start = start_of(standin)
            out["records_served"] = standin.state()["records"]
            log(f"loopback: {out['records_served']:,} records; the floor")
            out["floor"] = floor(standin, admin)
            log("loopback: gcc run")
            out["gcc"] = gcc_first_load(standin, admin, home / "loop", start)
            log(f"loopback: gcc {out['gcc']['seconds']:.1f} s; dlt")
            out["dlt"] = dlt(standin, admin)
            log(f"loopback: dlt {out['dlt']['seconds']:.1f} s; gcc behind {args.far_ms:g} ms")
            out["gcc_far"] = gcc_behind(standin, admin, home / "far", start, args.far_ms)
            log(f"{args.jobs:,} jobs: JOBNIMBUS_REQUESTS_PER_MINUTE=100")
            out["rate_limited"] = gcc_first_load(
                standin, admin, home / "rate", start, JOBNIMBUS_REQUESTS_PER_MINUTE="100"
            )
        with Standin(args.jobs, args.history_days, latency_ms=args.latency_ms) as slow:
            log(f"api {args.latency_ms:g} ms per page: gcc run")
            out["gcc_api"] = gcc_first_load(slow, admin, home / "api", start)
            log(f"api: gcc {out['gcc_api']['seconds']:.1f} s; dlt")
            out["dlt_api"] = dlt(slow, admin)
        with Standin(args.small_jobs, args.small_days) as small:
            start_small = start_of(small)
            log(f"{args.small_jobs:,} jobs: round trips behind {args.near_ms:g} ms")
            out["roundtrips"] = roundtrips(small.base_url, admin, start_small, home / "rt",
                                           args.near_ms)  # fmt: skip
    return out


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def render(o: dict[str, Any]) -> str:
    g, d, ga, da = o["gcc"], o["dlt"], o["gcc_api"], o["dlt_api"]
    records = o["records_served"]
    floor_s = o["floor"]["seconds"]
    bound = math.ceil(records / PAGE) * 1.1 + 3 * STREAMS
    rt = o["roundtrips"]
    rate = o["rate_limited"]
    rate_floor = rate["api_requests"] / 100 * 60
    far = o["gcc_far"]
    rows = [
        ("records served (stand-in)", f"{records:,}", ""),
        ("floor: fetch + COPY, one thread", f"{floor_s:.1f} s ({records / floor_s:,.0f}/s)", ""),
        ("gcc first load, loopback", f"{g['seconds']:.1f} s ({records / g['seconds']:,.0f}/s, "
         f"{floor_s / g['seconds']:.2f} of the floor)", ""),
        ("dlt, loopback (same resources)", f"{d['seconds']:.1f} s", ""),
        ("gcc vs dlt, loopback", _ratio(d["seconds"], g["seconds"]), ">= 1.5x"),
        (f"gcc, API {o.get('latency_ms', 250):g} ms per page", f"{ga['seconds']:.1f} s", ""),
        ("dlt, same", f"{da['seconds']:.1f} s", ""),
        ("gcc vs dlt, slow API", _ratio(da["seconds"], ga["seconds"]), ">= 2.5x"),
        ("requests: gcc / dlt", f"{g['api_requests']} / {d['api_requests']}",
         f"<= {bound:.0f} (1.1 x records/page + 3 per stream)"),
        (f"gcc first load, PostgreSQL {o['far_ms']:g} ms each way", f"{far['seconds']:.1f} s "
         f"({_ratio(far['seconds'], g['seconds'])} local, {far['proxy']['round_trips']:,} round "
         "trips)", "<= 1.5x local"),
    ]  # fmt: skip
    for run, label, target in (("first", "first load", "<= 2x local"),
                               ("catch_up", "catch-up, nothing new", "<= 150 round trips, "
                                "<= 1.5x local")):  # fmt: skip
        local, delayed = rt["local"][run], rt["delayed"][run]
        apps = delayed["proxy"]["by_application"]
        parts = ", ".join(f"{k.removeprefix('gcc-')} {v['round_trips']}" for k, v in apps.items())
        rows.append((
            f"{o['small_jobs']:,} jobs, {label}, PostgreSQL {rt['delay_ms']:g} ms each way",
            f"{delayed['seconds']:.1f} s vs {local['seconds']:.1f} s local "
            f"({_ratio(delayed['seconds'], local['seconds'])}); "
            f"{delayed['proxy']['round_trips']} round trips ({parts})", target,
        ))  # fmt: skip
    load_s = rate.get("steps", {}).get("jobnimbus", 0.0)
    rows.append((f"JOBNIMBUS_REQUESTS_PER_MINUTE=100, first load of {o['jobs']:,} jobs",
                 f"load step {load_s:.1f} s ({_ratio(load_s, rate_floor)}), whole run "
                 f"{rate['seconds']:.1f} s ({_ratio(rate['seconds'], rate_floor)}), for "
                 f"{rate['api_requests']} requests (requests / 100 per minute = "
                 f"{rate_floor:.1f} s)", "within 10%"))  # fmt: skip
    lines = ["| measure | figure | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.topology", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=20_000)
    p.add_argument("--history-days", type=int, default=1065)
    p.add_argument("--latency-ms", type=float, default=250)
    p.add_argument("--far-ms", type=float, default=20, help="PostgreSQL delay for the big load")
    p.add_argument("--near-ms", type=float, default=5, help="PostgreSQL delay, small company")
    p.add_argument("--small-jobs", type=int, default=1000)
    p.add_argument("--small-days", type=int, default=546)
    p.add_argument("--quick", action="store_true", help="3,000 jobs")
    p.add_argument("--render", metavar="JSON")
    args = p.parse_args(argv)
    if args.render:
        print(render(json.loads(Path(args.render).read_text())))
        return 0
    if args.quick:
        args.jobs = 3000
    started = time.perf_counter()
    out = run(args)
    out |= {"latency_ms": args.latency_ms, "far_ms": args.far_ms, "small_jobs": args.small_jobs,
            "seconds": time.perf_counter() - started}  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"topology-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    print(render(out))
    print(f"\nresults: {path.relative_to(ROOT)}; {out['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
