"""What a load fetches: per stream, the windows between a starting point and the run's end.

Three ways to choose the starting point, one per kind of run:
- whole partitions (a UI launch or a backfill of months reloads them whole);
- incremental (schedules, sensors, `gcc run`): from the stream's high-water mark minus an
  overlap, so a run with nothing new costs one request per stream;
- since a date (`gcc run --since`).
Windows are cut at month boundaries so months load concurrently, and a run that includes the
current month leaves its last window open-ended: records dated after our clock (an API clock
ahead of ours, a sandbox that lives faster) still land. Months before a stream's oldest record
(asked once per load) get no window: a GCC_START_DATE years before the account began costs
nothing, and the load still covers everything from GCC_START_DATE.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dagster import TimeWindow

from gcc_pipeline.partitions import month_key, monthly_partitions
from gcc_pipeline.streams import Stream
from gcc_pipeline.sync.state import SyncState


@dataclass(frozen=True)
class Window:
    stream: Stream
    start: datetime | None  # None (with end None): records fetched by id, whatever their dates
    end: datetime | None  # None: open-ended (the present and after)
    partition_key: str  # the month it belongs to

    def describe(self) -> str:
        if self.start is None:
            return "(by id)"
        return f"[{self.start.isoformat()}, {self.end.isoformat() if self.end else '...'})"


@dataclass(frozen=True)
class StreamPlan:
    stream: Stream
    since: datetime  # where this load's coverage starts
    reaches_present: bool  # the last window is open-ended
    end: datetime  # the run's range end (the last window ends here unless open-ended)
    windows: tuple[Window, ...]
    reason: str  # said in the logs: why it starts where it does


def split(stream: Stream, since: datetime, end: datetime, open_end: bool) -> tuple[Window, ...]:
    """[since, end) cut at month boundaries; the last window open when `open_end`."""
    windows: list[Window] = []
    key = monthly_partitions.get_partition_key_for_timestamp(since.timestamp())
    month = monthly_partitions.time_window_for_partition_key(key)
    start = since
    while start < end:
        last = month.end >= end
        stop = None if (last and open_end) else min(month.end, end)
        windows.append(Window(stream, start, stop, key))
        if last:
            break
        start = month.end
        key = monthly_partitions.get_partition_key_for_timestamp(start.timestamp())
        month = monthly_partitions.time_window_for_partition_key(key)
    return tuple(windows)


def plan_stream(
    stream: Stream,
    run: TimeWindow,
    *,
    includes_latest: bool,
    floor: datetime,
    state: SyncState | None,
    incremental: bool,
    since: datetime | None,
    overlap: timedelta,
    now: datetime,
    oldest: tuple[bool, datetime | None] | None = None,
) -> StreamPlan:
    """The windows one stream fetches in a run over the partitions `run` spans.

    `floor` is GCC_START_DATE: nothing older is fetched. An incremental run of a stream that was
    never loaded (or whose coverage does not reach the run) loads the run's partitions whole.
    `oldest` is what `JobNimbusClient.oldest` said (None: not asked)."""
    start, reason = max(run.start, floor), "whole partitions"
    if since is not None:
        start, reason = max(since, floor), f"since {since.isoformat()}"
    elif incremental and state is not None:
        frontier = min(state.frontier, now)  # a mark stored in the future is not believed
        start = max(frontier - overlap, floor)
        reason = (
            f"from its high-water mark {frontier.isoformat()} minus {overlap}"
            if state.high_water_mark
            else f"from {frontier.isoformat()} (nothing landed yet)"
        )
        if start < run.start:  # the last load was in an earlier month: its tail is caught up too
            reason += "; the first window reaches back to it"
    elif incremental:
        reason = "whole partitions (no earlier load reaches this range)"
    fetch_from, covered_from = start, start
    if oldest is not None:
        fetch_from, covered_from, reason = _skip_before_oldest(
            start, oldest, run, includes_latest, floor, reason
        )
    windows: tuple[Window, ...] = ()
    if fetch_from:
        windows = split(stream, max(fetch_from, run.start), run.end, includes_latest)
        if fetch_from < run.start and windows:
            # A catch-up whose high-water mark lies in an earlier month: that tail belongs to
            # this run's first window (and its partition), not to months the run does not name.
            windows = (replace(windows[0], start=fetch_from), *windows[1:])
    return StreamPlan(
        stream=stream,
        since=covered_from,
        reaches_present=includes_latest,
        end=run.end,
        windows=windows,
        reason=reason,
    )


def _skip_before_oldest(
    start: datetime,
    oldest: tuple[bool, datetime | None],
    run: TimeWindow,
    includes_latest: bool,
    floor: datetime,
    reason: str,
) -> tuple[datetime | None, datetime, str]:
    """(where fetching starts, None: nowhere; where coverage starts; the reason, amended).

    When the range holds the stream's oldest record, nothing older exists, so the load covers
    everything from the floor while fetching from the oldest record's month only. An empty
    stream fetches one open window of the latest month (its first records will land there)."""
    any_record, at = oldest
    if any_record and (at is None or at < start):
        return start, start, reason  # older records exist (or an unreadable date): no shortcut
    if not any_record or at is None or at >= run.end:
        if not includes_latest:
            return None, floor, reason + "; no record in this range"
        latest = monthly_partitions.time_window_for_partition_key(
            monthly_partitions.get_partition_key_for_timestamp(run.end.timestamp() - 1)
        )
        return max(start, latest.start), floor, reason + "; no record yet"
    month = monthly_partitions.time_window_for_partition_key(
        monthly_partitions.get_partition_key_for_timestamp(at.timestamp())
    )
    fetch_from = max(start, month.start)
    if fetch_from > start:
        reason += f"; from its oldest record's month {month.start.date().isoformat()}"
    return fetch_from, floor, reason


#: Records a fetch window aims at: its pages are all full but its last, so a load makes about
#: one request more per this many records than the records need (5% at 1,000 a page).
WINDOW_RECORDS = 20_000


def by_count(plan: StreamPlan, count: int, now: datetime) -> StreamPlan:
    """The plan's month windows merged into fetch windows of about WINDOW_RECORDS records each,
    cut evenly in time over the planned span (`count`, the records in it, is all one request
    tells). Months keep their meaning for partitions: each record lands under its own month
    (see Lander); windows only decide how many requests the API gets and which run at once."""
    if len(plan.windows) <= 1:
        return plan
    first, last = plan.windows[0], plan.windows[-1]
    start = first.start
    stop = last.end or max(now, last.start)
    pieces = max(1, min(math.ceil(count / WINDOW_RECORDS), 1000))
    step = (stop - start) / pieces
    edges = [start + step * i for i in range(pieces)]
    windows = tuple(
        Window(plan.stream, edge, edges[i + 1] if i + 1 < pieces else last.end, month_key(edge))
        for i, edge in enumerate(edges)
    )
    return replace(plan, windows=windows, reason=f"{plan.reason}; {pieces} window(s) of about "
                   f"{math.ceil(count / pieces):,} records")  # fmt: skip
