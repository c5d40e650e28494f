"""`gcc run` (the README's main job) and `gcc dev` (the Dagster UI), on the same defaults."""

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gcc_pipeline.environment import Environment, prepare, resolve_account_timezone
from gcc_pipeline.jobnimbus import JobNimbusClient, JobNimbusError
from gcc_pipeline.say import say
from gcc_pipeline.settings import (
    PROJECT_ROOT,
    ConfigError,
    Settings,
    child_environment,
    export,
    load_settings,
)

PREFLIGHT_TIMEOUT = (3.0, 10.0)


def start_sandbox_if_needed(settings: Settings, *, live: bool = False) -> Any:
    """No JOBNIMBUS_API_KEY: serve the built-in sandbox and point the pipeline at it."""
    if not settings.uses_sandbox:
        say(f"JobNimbus: API at {settings.jobnimbus_base_url}")
        return None
    from gcc_pipeline.sandbox.builtin import start_builtin

    box = settings.sandbox
    key = secrets.token_hex(16)
    server = start_builtin(settings, key, live=live)
    export({"JOBNIMBUS_BASE_URL": server.base_url, "JOBNIMBUS_API_KEY": key})
    born = datetime.fromtimestamp(server.company.anchor, UTC).strftime("%Y-%m-%d %H:%M UTC")
    lively = "; it lives in real time while this runs" if live else ""
    say(
        f"JobNimbus: built-in sandbox at {server.base_url} ({box.jobs} jobs, seed {box.seed}, "
        f"first served {born}{lively}); set JOBNIMBUS_API_KEY to read a real account"
    )
    return server


def preflight(settings: Settings) -> dict[str, Any]:
    """One cheap request before anything starts: a rejected key or an unreachable API is one
    line in seconds, not minutes of retries inside a run. Returns account/settings."""
    settings = load_settings()  # the sandbox may just have set the URL and key
    client = JobNimbusClient(
        settings.jobnimbus_base_url, settings.jobnimbus_api_key or "", timeout=PREFLIGHT_TIMEOUT,
        max_retries=1, backoff_factor=0.2,
    )  # fmt: skip
    try:
        with client:
            return client.settings()
    except JobNimbusError as exc:
        raise ConfigError(f"JobNimbus is not usable: {exc}") from None


def _environment(args: argparse.Namespace, *, live: bool = False) -> tuple[Environment, Any]:
    """The API first (a bad key or URL is one line before any server starts), then PostgreSQL."""
    settings = load_settings()
    server = start_sandbox_if_needed(settings, live=live)
    try:
        account = preflight(settings)
        settings = resolve_account_timezone(settings, account)
        if settings.timezone_source == "the account":
            say(f"time zone: {settings.timezone} (the account's; set GCC_TIMEZONE to override)")
        env = prepare(announce=say)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    return env, server


def _run(args: argparse.Namespace) -> int:
    from gcc_pipeline.pipeline_run import instance_for, read_plan, run_sync, summarize

    env, server = _environment(args)
    try:
        from gcc_pipeline.instance import fail_dead_runs

        plan = read_plan(env, full=args.full, since=args.since)
        say(plan.message)
        with instance_for(env.settings) as instance:
            for run_id in fail_dead_runs(instance):
                say(f"run {run_id[:8]} had died without finishing; marked it failed")
            started = time.monotonic()
            outcome = run_sync(env, instance, plan, progress=say)
        print(summarize(env, outcome, time.monotonic() - started))
        return 0 if outcome.ok else 1
    finally:
        if server is not None:
            server.stop()


def _dev(args: argparse.Namespace) -> int:
    env, server = _environment(args, live=True)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"),
               "-h", args.host, "-p", str(args.port), "--log-level", "warning"]  # fmt: skip
    say(
        f"Dagster UI: http://{args.host}:{args.port}  (Ctrl-C stops it; runs log here at INFO, "
        "Dagster's own services only their warnings)"
    )
    # DAGSTER_HOME under GCC_HOME, holding the project's dagster.yaml (its classes keep the state
    # under GCC_HOME too): what Dagster writes there (.nux, .telemetry) stays out of the clone.
    # The child gets its own session so a signal reaches the whole tree.
    home = env.settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    runtime = env.settings.home / "runtime"  # platformdirs warns when XDG_RUNTIME_DIR is unset
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    environment = child_environment(
        {
            "DAGSTER_HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime),
            # `dagster dev` still works and is what this project pins; its pointer to `dg dev`
            # (another package) is noise for our users.
            "PYTHONWARNINGS": "ignore:Function `dev_command` is superseded",
        }
    )
    environment.pop("JOBNIMBUS_WEBHOOK_SECRET", None)  # only the receiver and the sandbox use it
    receiver = None
    try:
        receiver = _start_receiver(env, server, ui_port=args.port)
        process = subprocess.Popen(
            # cwd: DAGSTER_HOME, so Dagster finds no second dagster.yaml to warn about
            command, cwd=home, env=environment, start_new_session=True,
            preexec_fn=_default_stop_signals,
        )  # fmt: skip
        return _supervise(process)
    finally:
        if receiver is not None:
            _stop_receiver(receiver)
        if server is not None:
            server.stop()


#: How long the webhook receiver gets to start answering, and to stop.
RECEIVER_START_SECONDS = 20.0
RECEIVER_STOP_SECONDS = 5.0


def _start_receiver(env: Environment, server: Any, *, ui_port: int) -> subprocess.Popen | None:
    """`gcc webhook` beside `dagster dev` when JOBNIMBUS_WEBHOOK_SECRET is set; with the
    built-in sandbox, the living company then posts a webhook for each change it makes."""
    import requests

    from gcc_pipeline.settings import webhook_secret
    from gcc_pipeline.webhooks.app import PATH

    secret = webhook_secret()
    if not secret:
        say("webhooks: JOBNIMBUS_WEBHOOK_SECRET is not set, so no receiver (the poll keeps up)")
        return None
    settings = env.settings
    if settings.webhook_port == ui_port:
        raise ConfigError(
            f"GCC_WEBHOOK_PORT={settings.webhook_port} is the UI's port too: choose another"
        )
    receiver = subprocess.Popen(
        [sys.executable, "-m", "gcc_pipeline.cli", "webhook"], env=child_environment({}),
        start_new_session=True, preexec_fn=_default_stop_signals,
    )  # fmt: skip
    base = f"http://{settings.webhook_host}:{settings.webhook_port}"
    deadline = time.monotonic() + RECEIVER_START_SECONDS
    while time.monotonic() < deadline and receiver.poll() is None:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{base}/health", timeout=1).ok:
                break
        time.sleep(0.2)
    else:
        _stop_receiver(receiver)
        raise ConfigError(f"the webhook receiver did not start on {base} (is the port taken?)")
    clock = getattr(server, "clock", None)
    if clock is not None:
        from gcc_pipeline.sandbox.webhooks import WebhookSender

        clock.on_change = WebhookSender(base + PATH, secret).send
        say(f"webhooks: receiving at {base}{PATH}; the sandbox posts one per change it makes")
    else:
        say(f"webhooks: receiving at {base}{PATH}")
    return receiver


def _stop_receiver(receiver: subprocess.Popen) -> None:
    """SIGTERM (uvicorn finishes the requests in flight), then SIGKILL: a stop always ends."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(receiver.pid, sig)
        try:
            receiver.wait(timeout=RECEIVER_STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


#: How long `dagster dev` gets to shut its webserver, daemon and code server down after Ctrl-C
#: or SIGTERM; then the whole process group is terminated, then killed.
STOP_GRACE_SECONDS = 6.0
KILL_GRACE_SECONDS = 3.0


def _default_stop_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM do what they normally do. A shell script's
    background job, nohup or a CI runner starts us with SIGINT ignored; inherited, `dagster dev`
    (which gives SIGTERM SIGINT's disposition) would then ignore both and never stop."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _supervise(process: subprocess.Popen) -> int:
    """Wait for `dagster dev`; on Ctrl-C or SIGTERM ask it to shut down (it stops the webserver,
    daemon and code server), and if it has not within the grace period, stop its whole process
    group: a stop always ends, and nothing of the tree is left."""
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = process.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stopping:
                    code = _stop_group(process)
                    break
        return 0 if stopping else code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # leftovers of the tree, if any


def _stop_group(process: subprocess.Popen) -> int:
    """Give the asked-to-stop child its grace period, then SIGTERM its group, then SIGKILL."""
    for sig, grace in ((None, STOP_GRACE_SECONDS), (signal.SIGTERM, KILL_GRACE_SECONDS)):
        if sig is not None:
            say(f"`dagster dev` did not stop in time; sending {sig.name} to its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def add_parser(verbs: Any) -> None:
    run = verbs.add_parser(
        "run",
        help="load what is new (the first time: everything), refresh views, run checks",
        description="Apply the schema, then load JobNimbus into the warehouse as one Dagster run "
        "of sync_job: the first time every month from GCC_START_DATE, later from each stream's "
        "high-water mark. Then refresh the analytics views, run every check and print a "
        "summary. Without JOBNIMBUS_API_KEY it reads the built-in sandbox.",
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="reload everything from GCC_START_DATE")
    mode.add_argument(
        "--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="reload from this date"
    )
    run.set_defaults(handler=_run)
    dev = verbs.add_parser(
        "dev",
        help="open the Dagster UI on the same warehouse and instance",
        description="Start `dagster dev` (UI, daemon, schedules, sensors) on the state `gcc run` "
        "uses. With the built-in sandbox the company lives: its clock moves on, so the change "
        "sensor and the schedules find real changes.",
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=_dev)
