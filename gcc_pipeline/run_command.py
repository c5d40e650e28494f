"""`gcc run` (the README's main job) and `gcc dev` (the Dagster UI), on the same defaults."""

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gcc_pipeline.environment import Environment, prepare
from gcc_pipeline.settings import PROJECT_ROOT


def _say(message: str) -> None:
    print(f"gcc: {message}", file=sys.stderr, flush=True)


def _start_sandbox_if_needed(env: Environment) -> Any:
    """No JOBNIMBUS_API_KEY: serve the built-in sandbox and point the pipeline at it."""
    if not env.settings.uses_sandbox:
        _say(f"JobNimbus: API at {env.settings.jobnimbus_base_url}")
        return None
    from gcc_pipeline.sandbox import start_sandbox

    jobs = int(os.environ.get("GCC_SANDBOX_JOBS") or 2000)
    seed = int(os.environ.get("GCC_SANDBOX_SEED") or 1)
    history = int(os.environ.get("GCC_SANDBOX_HISTORY_DAYS") or 365)
    key = secrets.token_hex(16)
    server = start_sandbox(jobs=jobs, seed=seed, api_key=key, history_days=history)
    os.environ["JOBNIMBUS_BASE_URL"] = server.base_url
    os.environ["JOBNIMBUS_API_KEY"] = key
    _say(
        f"JobNimbus: built-in sandbox at {server.base_url} ({jobs} jobs, seed {seed}); "
        "set JOBNIMBUS_API_KEY to read a real account"
    )
    return server


def _run(args: argparse.Namespace) -> int:
    env = prepare(announce=_say)
    server = _start_sandbox_if_needed(env)
    try:
        from gcc_pipeline.pipeline_run import run_everything, summarize

        started = time.monotonic()
        outcome = run_everything(env, progress=_say)
        print(summarize(env, outcome, time.monotonic() - started))
        return 0 if outcome.ok else 1
    finally:
        if server is not None:
            server.stop()


def _dev(args: argparse.Namespace) -> int:
    env = prepare(announce=_say)
    server = _start_sandbox_if_needed(env)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port)]  # fmt: skip
    _say(f"Dagster UI: http://{args.host}:{args.port}  (Ctrl-C stops it)")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=os.environ.copy())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait(timeout=30)
    finally:
        if server is not None:
            server.stop()


def add_parser(verbs: Any) -> None:
    run = verbs.add_parser(
        "run",
        help="run the whole pipeline once (backfill, views, checks) and print a summary",
        description="Apply the schema, materialize every partition from GCC_START_DATE to today "
        "as one backfill, refresh the analytics views, run the checks and print a summary. "
        "Without JOBNIMBUS_API_KEY it reads the built-in sandbox (GCC_SANDBOX_JOBS jobs).",
    )
    run.set_defaults(handler=_run)
    dev = verbs.add_parser(
        "dev",
        help="open the Dagster UI on the same warehouse and instance",
        description="Start `dagster dev` with DAGSTER_HOME and storage set as `gcc run` uses them.",
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=_dev)
