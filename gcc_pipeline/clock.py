"""The one clock: the pipeline, the sandbox and the checks read "now" here.

Nothing else asks the operating system for the time of day, so a test (or `GCC_NOW`, which every
process started by `gcc` inherits) can put the whole system at any moment: New Year in the
account zone, a DST switch, the last minute of a month. PostgreSQL's own `now()` is used only for
bookkeeping columns (when we wrote a row), never to judge data.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from gcc_pipeline.settings import pinned_now

_pinned: datetime | None = pinned_now()


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return _pinned if _pinned is not None else datetime.now(UTC)


def timestamp() -> float:
    return now().timestamp()


def is_pinned() -> bool:
    return _pinned is not None


@contextmanager
def pinned(moment: datetime) -> Iterator[datetime]:
    """Freeze this process's clock at `moment` (aware) for the block."""
    global _pinned
    if moment.tzinfo is None:
        raise ValueError("pin the clock at an aware datetime")
    previous, _pinned = _pinned, moment.astimezone(UTC)
    try:
        yield _pinned
    finally:
        _pinned = previous
