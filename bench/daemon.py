"""A scheduled incremental run launched by a real `dagster-daemon` (the schedule set to every
minute), as the owners' deployment runs it: queued, dequeued, launched in a process of its own.

Measures the run's wall time from creation (the schedule's tick) to its end, and from its start
(the launched process picked it up) to its end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, database_of, log, query, with_database
from bench.gcc import Target, run_figures

BIN = Path(sys.executable).parent
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


def scheduled_run(target: Target, direct_url: str, timeout: float = 300) -> dict[str, Any]:
    twin = with_database(direct_url, database_of(direct_url) + "_dagster")
    env = target.env() | {"DAGSTER_HOME": str(ROOT), "GCC_INCREMENTAL_CRON": "* * * * *"}
    before = {r[0] for r in query(twin, "SELECT run_id FROM runs")}
    with tempfile.TemporaryFile("w+") as out:
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
        try:
            row = _wait_for_scheduled(twin, before, daemon, timeout)
        except RuntimeError:
            out.seek(0)
            log(f"dagster-daemon output:\n{out.read()[-4000:]}")
            raise
        finally:
            if daemon.poll() is None:
                os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
    run_id, status, created, started, ended = row
    return {
        "status": status,
        "created_to_end_seconds": ended - created,
        "start_to_end_seconds": ended - started,
        **run_figures(direct_url, [run_id]),
    }


def _wait_for_scheduled(twin: str, before: set[str], daemon: subprocess.Popen, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"dagster-daemon exited {daemon.returncode}")
        rows = query(
            twin,
            # the times of Dagster's own events: the run enqueued (the tick), started, ended
            "SELECT r.run_id, r.status, extract(epoch FROM min(e.timestamp)), "
            "extract(epoch FROM min(e.timestamp) FILTER (WHERE e.dagster_event_type = "
            "'PIPELINE_START')), extract(epoch FROM max(e.timestamp)) "
            "FROM runs r JOIN run_tags t ON t.run_id = r.run_id "
            "JOIN event_logs e ON e.run_id = r.run_id "
            "WHERE t.key = 'dagster/schedule_name' AND t.value = 'incremental_schedule' "
            "GROUP BY r.id, r.run_id, r.status ORDER BY r.id",
        )
        for row in rows:
            if row[0] not in before and row[1] in TERMINAL and row[3] is not None:
                return row
        time.sleep(1)  # ok: polling the run storage for the scheduled run
    raise RuntimeError("no scheduled run finished in time")
