"""What a load fetches: per stream, the windows between a starting point and the run's end.

Three ways to choose the starting point, one per kind of run:
- whole partitions (a UI launch or a backfill of months reloads them whole);
- incremental (schedules, sensors, `gcc run`): from the stream's high-water mark minus an
  overlap, so a run with nothing new costs one request per stream;
- since a date (`gcc run --since`).
Windows are cut at month boundaries so months load concurrently, and a run that includes the
current month leaves its last window open-ended: records dated after our clock (an API clock
ahead of ours, a sandbox that lives faster) still land.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dagster import TimeWindow

from gcc_pipeline.partitions import monthly_partitions
from gcc_pipeline.streams import Stream
from gcc_pipeline.sync.state import SyncState


@dataclass(frozen=True)
class Window:
    stream: Stream
    start: datetime
    end: datetime | None  # None: open-ended (the present and after)
    partition_key: str  # the month it belongs to

    def describe(self) -> str:
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
) -> StreamPlan:
    """The windows one stream fetches in a run over the partitions `run` spans.

    `floor` is GCC_START_DATE: nothing older is fetched. An incremental run of a stream that was
    never loaded (or whose coverage does not reach the run) loads the run's partitions whole."""
    start, reason = max(run.start, floor), "whole partitions"
    if since is not None:
        start, reason = max(since, floor), f"since {since.isoformat()}"
    elif incremental and state is not None and (frontier := state.frontier) >= run.start:
        start = max(frontier - overlap, floor)
        reason = (
            f"from its high-water mark {frontier.isoformat()} minus {overlap}"
            if state.high_water_mark
            else f"from {frontier.isoformat()} (nothing landed yet)"
        )
    elif incremental:
        reason = "whole partitions (no earlier load reaches this range)"
    return StreamPlan(
        stream=stream,
        since=start,
        reaches_present=includes_latest,
        end=run.end,
        windows=split(stream, start, run.end, includes_latest),
        reason=reason,
    )
