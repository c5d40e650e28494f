"""Each stream's sync state: how far back its loads are contiguous and its high-water mark.

The high-water mark (the newest window-field value landed) only moves when a load was
contiguous with what was already covered and reached the present, so a failed window, a partial
backfill of old months or a run that stopped half-way never makes a later catch-up skip records.
It never passes the moment its load began: a record dated ahead of our clock (an API clock
running fast, a bad record) would otherwise make later catch-ups skip every change made before
that future moment.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gcc_pipeline.warehouse.queries import query


@dataclass(frozen=True)
class SyncState:
    stream: str
    covered_from: datetime  # loads are contiguous from here up to the high-water mark
    high_water_mark: datetime | None  # None: the stream had no record at all
    synced_at: datetime
    run_id: str | None

    @property
    def frontier(self) -> datetime:
        """Everything dated before this has landed."""
        return self.high_water_mark or self.covered_from


def read_states(conn: Any) -> dict[str, SyncState]:
    with conn, conn.cursor() as cur:
        cur.execute(query("sync_state_read"))
        return {row[0]: SyncState(*row) for row in cur.fetchall()}


def advance(
    conn: Any,
    stream: str,
    *,
    since: datetime,
    reaches_present: bool,
    end: datetime,
    high_water: datetime | None,
    floor: datetime,
    run_id: str,
    began: datetime,
) -> SyncState | None:
    """Record a completed load of [since, end or the present) for `stream`; returns the state."""
    if high_water is not None:
        high_water = min(high_water, began)
    with conn, conn.cursor() as cur:
        cur.execute(query("sync_state_lock"), {"stream": stream})
        row = cur.fetchone()
        state = SyncState(*row) if row else None
        if state is None:
            if not (reaches_present and since <= floor):
                return None  # only a whole load up to the present starts the state
            covered_from, mark = since, high_water
        else:
            covered_from, mark = state.covered_from, state.high_water_mark
            if mark is not None and mark > began:
                mark = began  # a mark stored in the future (before marks were capped)
            if reaches_present and since <= state.frontier and high_water is not None:
                mark = max(mark, high_water) if mark else high_water
            if since < covered_from and (reaches_present or end >= covered_from):
                covered_from = since  # an older stretch loaded, contiguous with the covered one
        cur.execute(
            query("sync_state_write"),
            {"stream": stream, "covered_from": covered_from, "high_water_mark": mark,
             "run_id": run_id},
        )  # fmt: skip
        return SyncState(*cur.fetchone())
