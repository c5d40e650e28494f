"""Each stream's sync state: how far back its loads are contiguous and its high-water mark.

The high-water mark (the newest window-field value landed) only moves when a load was
contiguous with what was already covered and reached the present, so a failed window, a partial
backfill of old months or a run that stopped half-way never makes a later catch-up skip records.
It never passes the moment its load began: a record dated ahead of our clock (an API clock
running fast, a bad record) would otherwise make later catch-ups skip every change made before
that future moment.
"""

from collections.abc import Sequence
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
    """One statement in autocommit (no BEGIN and COMMIT around it: two round trips less)."""
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        with conn.cursor() as cur:
            cur.execute(query("sync_state_read"))
            return {row[0]: SyncState(*row) for row in cur.fetchall()}
    finally:
        conn.autocommit = autocommit


@dataclass(frozen=True)
class Completed:
    """A stream's completed load of [since, end or the present), to record."""

    stream: str
    since: datetime
    reaches_present: bool
    end: datetime
    high_water: datetime | None  # the newest window-field value the load landed


def next_state(
    state: SyncState | None, load: Completed, *, floor: datetime, began: datetime
) -> tuple[datetime, datetime | None] | None:
    """(covered_from, high_water_mark) after `load`; None when it starts no state."""
    high_water = None if load.high_water is None else min(load.high_water, began)
    if state is None:
        if not (load.reaches_present and load.since <= floor):
            return None  # only a whole load up to the present starts the state
        return load.since, high_water
    covered_from, mark = state.covered_from, state.high_water_mark
    if mark is not None and mark > began:
        mark = began  # a mark stored in the future (before marks were capped)
    if load.reaches_present and load.since <= state.frontier and high_water is not None:
        mark = max(mark, high_water) if mark else high_water
    if load.since < covered_from and (load.reaches_present or load.end >= covered_from):
        covered_from = load.since  # an older stretch loaded, contiguous with the covered one
    return covered_from, mark


def advance(
    conn: Any,
    loads: Sequence[Completed],
    *,
    floor: datetime,
    run_id: str,
    began: datetime,
    first: Sequence[bytes] = (),
    then: bytes = b"",
) -> dict[str, SyncState]:
    """Record the streams' completed loads in one transaction (their rows locked, so two runs
    finishing take turns); returns the states written. `first`: statements (already bound) the
    transaction begins with, `then`: one run after it commits. The connection is in autocommit
    and the transaction is spelled out, so BEGIN travels with the first statements and COMMIT
    with `then`: three round trips in all."""
    names = [load.stream for load in loads]
    with conn.cursor() as cur:
        lock = cur.mogrify(query("sync_state_lock"), {"streams": names})
        cur.execute(_joined([b"BEGIN", *first, lock]))
        states = {row[0]: SyncState(*row) for row in cur.fetchall()}
        writes = [
            (load.stream, *found)
            for load in loads
            if (found := next_state(states.get(load.stream), load, floor=floor, began=began))
        ]
        written: dict[str, SyncState] = {}
        if writes:
            cur.execute(
                query("sync_state_write"),
                {"streams": [w[0] for w in writes], "covered_from": [w[1] for w in writes],
                 "high_water_mark": [w[2] for w in writes], "run_id": run_id},
            )  # fmt: skip
            written = {row[0]: SyncState(*row) for row in cur.fetchall()}
        cur.execute(_joined([b"COMMIT", then] if then else [b"COMMIT"]))
    return written


def _joined(statements: Sequence[bytes]) -> bytes:
    """Statements as one string (a file's last line may be a comment: each ends on its own)."""
    return b"\n;\n".join(statements)
