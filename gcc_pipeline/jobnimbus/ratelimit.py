"""Client-side politeness shared by a run's clients: a request rate and a bound on requests in
flight, so a long backfill does not hammer a real account."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator


class RateLimiter:
    """Spaces calls at least ``60 / requests_per_minute`` seconds apart (0 = unlimited).

    An interval limiter (a token bucket of depth one): simple, and smooth enough for one client.
    ``clock`` and ``sleep`` are injectable so tests can check the computed waits without waiting.
    """

    def __init__(
        self,
        requests_per_minute: float = 0,
        *,
        max_in_flight: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_minute < 0:
            raise ValueError("requests_per_minute must be >= 0")
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None
        self._lock = threading.Lock()
        self.total_wait = 0.0
        # 0: unbounded. Bounding requests, not threads, lets a thread land a page while the
        # others' requests keep every slot busy.
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None

    def acquire(self) -> float:
        """Block until the next request may go out; return the seconds waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            wait = 0.0 if self._next_at is None else max(0.0, self._next_at - now)
            self._next_at = max(now, self._next_at or now) + self.interval
        if wait:
            self._sleep(wait)
            self.total_wait += wait
        return wait

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        """Hold one of the ``max_in_flight`` slots from sending a request to reading its body."""
        if self._slots is None:
            yield
            return
        with self._slots:
            yield
