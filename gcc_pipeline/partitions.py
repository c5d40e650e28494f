"""Monthly partitions on the window field, in the account's time zone, the current month included.

A month is the unit a user reloads from the UI or a backfill; inside the current month, runs
follow each stream's high-water mark (see `sync/plan.py`). Months keep Dagster's bookkeeping
proportional to the history's length in months, not days: a three-year first load records a few
hundred events.
"""

import bisect
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import BackfillPolicy, BetaWarning, MonthlyPartitionsDefinition, TimeWindow

from gcc_pipeline import clock
from gcc_pipeline.settings import Settings, load_settings

_settings = load_settings()


def first_month(settings: Settings) -> str:
    return date.fromisoformat(settings.start_date).replace(day=1).isoformat()


def history_start(settings: Settings) -> datetime:
    """GCC_START_DATE at midnight in the account time zone: nothing older is fetched."""
    return datetime.combine(
        date.fromisoformat(settings.start_date), datetime.min.time(), ZoneInfo(settings.timezone)
    )


def _months_ahead(timezone: str) -> int:
    """Months the clock is ahead of the operating system's (0 unless GCC_NOW pins it later):
    Dagster lists partitions by the system clock, ours must reach the clock's current month."""
    zone = ZoneInfo(timezone)
    ours, system = clock.now().astimezone(zone), datetime.now(zone)
    return max(0, (ours.year - system.year) * 12 + ours.month - system.month)


# end_offset=1: the current month exists before it closes, so runs can write it.
monthly_partitions = MonthlyPartitionsDefinition(
    start_date=first_month(_settings),
    timezone=_settings.timezone,
    end_offset=1 + _months_ahead(_settings.timezone),
)

# A backfill of any range is one run: a few dozen months cost Dagster a handful of batched
# writes, and the load fetches their windows concurrently.
backfill_policy = BackfillPolicy.single_run()


@contextmanager
def beta_parameters() -> Iterator[None]:
    """Decorate with `backfill_policy=` inside this: the parameter is marked beta in Dagster 1.13
    and there is no stable way to ask for single-run backfills, so its warning is muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        yield


def latest_key(now: datetime | None = None) -> str:
    """The current month's partition key (at `now`, default: the clock's now)."""
    moment = now or clock.now()
    return monthly_partitions.get_partition_key_for_timestamp(moment.timestamp())


def keys_through_now() -> list[str]:
    """Every month from the first partition through the clock's current one."""
    latest = latest_key()
    keys = monthly_partitions.get_partition_keys(current_time=clock.now())
    return [k for k in keys if k <= latest]


def latest_window(now: datetime | None = None) -> TimeWindow:
    """The current month's window."""
    return monthly_partitions.time_window_for_partition_key(latest_key(now))


def month_key(when: datetime) -> str:
    """The partition key of the month holding `when` (clamped to the first partition)."""
    keys = keys_through_now()
    key = monthly_partitions.get_partition_key_for_timestamp(
        max(when, history_start(_settings) + timedelta(seconds=1)).timestamp()
    )
    return max(key, keys[0])


class MonthIndex:
    """The partition of a record's date among a run's months, by bisection (a record a landing
    holds belongs to its own month, whatever window fetched it); dates outside go to the nearest
    month of the run."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self.starts = [
            monthly_partitions.time_window_for_partition_key(k).start.timestamp() for k in keys
        ]

    def key(self, when: datetime | None) -> str:
        if when is None or not self.keys:
            return self.keys[0] if self.keys else ""
        return self.keys[max(0, bisect.bisect_right(self.starts, when.timestamp()) - 1)]
