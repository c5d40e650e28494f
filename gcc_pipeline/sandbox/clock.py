"""A living sandbox: the company's clock moves on by itself, so new leads, status moves and
payments keep arriving while `gcc dev` runs (the sensors and schedules then see real change)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .company import Company


class LiveClock:
    """Advances the company by a day every `day_minutes` real minutes, in small steps."""

    def __init__(
        self, company: Company, *, day_minutes: float, tick_seconds: float | None = None
    ) -> None:
        if day_minutes <= 0:
            raise ValueError("day_minutes must be positive")
        tick_seconds = tick_seconds or min(15.0, day_minutes * 15.0)  # about 4 steps a day or more
        self.company = company
        self.step_days = tick_seconds / (day_minutes * 60.0)
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sandbox-clock")

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.company.advance(self.step_days)
