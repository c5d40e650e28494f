"""`gcc run` as a user runs it (a child process, POSTGRES_URL set, so Dagster's storage is the
`_dagster` twin database), and what its run cost: wall time, peak RSS, records fetched, requests,
Dagster events stored, and where the seconds went per step."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from bench.common import (
    KEY,
    RESULTS,
    Child,
    clean_env,
    database_of,
    log,
    query,
    run_child,
    with_database,
)


@dataclass(frozen=True)
class Target:
    """Where one `gcc run` reads and writes."""

    base_url: str
    warehouse_url: str  # what the pipeline connects to (maybe through the delay proxy)
    start_date: str
    home: Path  # GCC_HOME: the account file and local state

    def env(self, concurrency: int | None = None) -> dict[str, str]:
        extra = {
            "GCC_HOME": str(self.home), "POSTGRES_URL": self.warehouse_url,
            "JOBNIMBUS_BASE_URL": self.base_url, "JOBNIMBUS_API_KEY": KEY,
            "GCC_START_DATE": self.start_date, "GCC_TIMEZONE": "UTC",
        }  # fmt: skip
        if concurrency:
            extra["JOBNIMBUS_MAX_CONCURRENCY"] = str(concurrency)
        return clean_env(**extra)


def gcc_run(
    target: Target,
    direct_url: str,
    *args: str,
    concurrency: int | None = None,
    profile: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One `gcc run` and its figures; `direct_url` reads them without the proxy; `env`: more
    variables for the run (JOBNIMBUS_REQUESTS_PER_MINUTE, say)."""
    twin = with_database(direct_url, database_of(direct_url) + "_dagster")
    known = set(_run_ids(twin))
    cmd = [sys.executable, "-m", "gcc_pipeline.cli", "run", *args]
    if profile:
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"profile-{profile}.pyspy.txt"
        cmd = [exe, "record", "--idle", "--threads", "--subprocesses", "--rate", "100",
               "--format", "raw", "--output", str(out), "--", *cmd]  # fmt: skip
    child = run_child(cmd, target.env(concurrency) | (env or {}))
    _require(child, "gcc run " + " ".join(args))
    runs = [r for r in _run_ids(twin) if r not in known]
    said = (child.stdout + child.stderr).splitlines()
    return {
        "seconds": child.seconds,
        "peak_rss_mb": child.peak_rss_mb,
        "first_lines": said[:4],
        **run_figures(direct_url, runs),
    }


def _require(child: Child, what: str) -> None:
    if child.returncode != 0:
        log(f"{what} failed:\n{child.stderr[-4000:]}")
        raise RuntimeError(f"{what} exited {child.returncode}")


def _run_ids(twin: str) -> list[str]:
    try:
        return [r[0] for r in query(twin, "SELECT run_id FROM runs ORDER BY id")]
    except psycopg2.Error:  # the twin does not exist before the first run
        return []


def run_figures(url: str, run_ids: list[str]) -> dict[str, Any]:
    """What the warehouse's ingestion log and Dagster's event log say about these runs."""
    twin = with_database(url, database_of(url) + "_dagster")
    fetched, requests = query(url, "SELECT coalesce(sum(fetched), 0), coalesce(sum(requests), 0) "
                              "FROM jobnimbus_ingestion_log WHERE run_id = ANY(%s)",
                              (run_ids,))[0]  # fmt: skip
    events = query(twin, "SELECT count(*), count(*) FILTER (WHERE dagster_event_type = "
                   "'ASSET_MATERIALIZATION'), count(*) FILTER (WHERE dagster_event_type = "
                   "'ASSET_CHECK_EVALUATION') FROM event_logs WHERE run_id = ANY(%s)",
                   (run_ids,))[0]  # fmt: skip
    steps = query(
        twin,
        "SELECT step_key, extract(epoch FROM max(timestamp) FILTER (WHERE dagster_event_type IN "
        "('STEP_SUCCESS', 'STEP_FAILURE')) - min(timestamp) FILTER (WHERE dagster_event_type = "
        "'STEP_START')) FROM event_logs WHERE run_id = ANY(%s) AND step_key IS NOT NULL "
        "GROUP BY step_key",
        (run_ids,),
    )
    return {
        "runs": len(run_ids),
        "fetched": int(fetched),
        "requests": int(requests),
        "events": {"stored": events[0], "materializations": events[1], "checks": events[2]},
        "steps": {key: float(s) for key, s in steps if s is not None},
    }
