"""The one clock: the pipeline, the sandbox and the checks read "now" here.

Nothing else asks the operating system for the time of day, so a test (or `GCC_NOW`, which every
process started by `gcc` inherits) can put the whole system at any moment: New Year in the
account zone, a DST switch, the last minute of a month. PostgreSQL's own `now()` is used only for
bookkeeping columns (when we wrote a row), never to judge data.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from gcc_pipeline.settings import pinned_now

Setting = tuple[datetime, float | None] | None  # (instant, the real unix time it stood at)

_setting: Setting = pinned_now()


def reading(setting: Setting) -> datetime:
    """What a clock set so reads now: frozen at the instant, or running on from it."""
    if setting is None:
        return datetime.now(UTC)
    moment, since = setting
    return moment if since is None else moment + timedelta(seconds=time.time() - since)


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return reading(_setting)


def timestamp() -> float:
    return now().timestamp()


def is_pinned() -> bool:
    return _setting is not None


@contextmanager
def pinned(moment: datetime) -> Iterator[datetime]:
    """Freeze this process's clock at `moment` (aware) for the block."""
    global _setting
    if moment.tzinfo is None:
        raise ValueError("pin the clock at an aware datetime")
    previous, _setting = _setting, (moment.astimezone(UTC), None)
    try:
        yield moment.astimezone(UTC)
    finally:
        _setting = previous
