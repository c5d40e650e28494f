"""A living sandbox: the company's clock follows the pipeline's clock (`gcc_pipeline.clock`), so
new leads, status moves and payments arrive as real time passes while `gcc dev` runs, and no
record is ever dated after the moment it is served."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from gcc_pipeline import clock

if TYPE_CHECKING:
    from .company import Changes, Company

log = logging.getLogger("gcc.sandbox")


class LiveClock:
    """Moves the company up to the clock's now every `tick_seconds` (never ahead of it)."""

    def __init__(self, company: Company, *, tick_seconds: float = 15.0) -> None:
        if tick_seconds <= 0:
            raise ValueError("tick_seconds must be positive")
        self.company = company
        self.tick_seconds = tick_seconds
        # Called with each move's changes (the sandbox's webhooks), on the clock's thread.
        self.on_change: Callable[[Mapping[str, Changes]], object] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sandbox-clock")

    def start(self) -> None:
        self.company.advance_to(clock.timestamp())
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self, wait: float = 0.0) -> None:
        """Stop ticking; `wait` seconds at most for a tick in progress (its webhooks) to end."""
        self._stop.set()
        if wait and self._thread.is_alive():
            self._thread.join(wait)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            notify = self.on_change
            if notify is None:
                self.company.advance_to(clock.timestamp())
                continue
            changes = self.company.advance_to_changes(clock.timestamp())
            try:
                notify(changes)
            except Exception as exc:  # a receiver's trouble must not stop the company's life
                log.warning("sandbox change listener failed: %s", type(exc).__name__)
