"""What the steps after a load still owe, so that a catch-up that changed nothing records nothing.

Dagster skips a step when an asset it reads was not materialized earlier in the run. A catch-up
whose load changed no table yields no table, and so the history build, the sales reps and the
views (and their checks) are skipped, with no events for what did not change. That is right only
when they owe nothing from an earlier run: a run that failed after its load, a view whose file
changed, a new account time zone, or account/users (the reps) not read for a day. Those are read
from the warehouse's own markers in one statement.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gcc_pipeline.assets.analytics import VIEWS, Changes
from gcc_pipeline.warehouse.queries import query

HISTORY_CURSORS = ("history:status_changes", "history:jobs")
REPS_CURSOR = "sales_reps"
#: The tables each reader reads, and the cursors saying how far it has read them.
READERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "job_status_history": (("jobs", "jobnimbus_status_changes"), HISTORY_CURSORS),
    "sales_reps": (("contacts", "jobs", "payments"), (REPS_CURSOR,)),
}
#: account/users has no change marker: the reps are read again at least this often.
REPS_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Mark:
    at: datetime
    run_id: str | None


def owed(conn: Any, timezone: str) -> list[str]:
    """Why the steps after the load must run although it changed nothing (empty: they owe
    nothing). A change made by the run that last moved a reader's cursor was read by it (the
    history build marks the jobs whose dates it derived after its own cursor)."""
    with conn.cursor() as cur:
        cur.execute(query("downstream_owed"))
        rows = cur.fetchall()
    tables = {name: Mark(at, detail) for kind, name, at, detail in rows if kind == "table"}
    cursors = {name: Mark(at, detail) for kind, name, at, detail in rows if kind == "cursor"}
    views = {name: (at, detail) for kind, name, at, detail in rows if kind == "view"}
    zones = [name for kind, name, *_ in rows if kind == "timezone"]
    now = next(at for kind, _, at, _ in rows if kind == "now")
    reasons = []
    for reader, (inputs, names) in READERS.items():
        for name in names:
            cursor = cursors.get(name)
            late = [
                t for t in inputs
                if t in tables and (cursor is None or (
                    tables[t].at > cursor.at and tables[t].run_id != cursor.run_id))
            ]  # fmt: skip
            if late:
                reasons.append(f"{reader} has not read what changed in {', '.join(late)}")
                break
    reps = cursors.get(REPS_CURSOR)
    if reps is not None and now - reps.at > REPS_EVERY:
        reasons.append(f"sales_reps last read account/users over {REPS_EVERY.days} day ago")
    stale = Changes({t: m.at for t, m in tables.items()}, views, now).stale(VIEWS)
    if stale:
        names = ", ".join(v.name for v in stale[:3]) + (", ..." if len(stale) > 3 else "")
        reasons.append(f"{len(stale)} view(s) to refresh ({names})")
    if zones != [timezone]:
        reasons.append(f"the views' time zone is not yet {timezone}")
    return reasons
