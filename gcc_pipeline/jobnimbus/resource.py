"""The Dagster resource that hands assets, sensors and checks configured JobNimbus clients."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from dagster import ConfigurableResource

from .client import MAX_PAGE_SIZE, JobNimbusClient, Listing
from .ratelimit import RateLimiter

_LIMITERS: dict[tuple[str, int, int], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


class JobNimbusResource(ConfigurableResource):
    """JobNimbus API access; the key comes from ``EnvVar("JOBNIMBUS_API_KEY")``.

    ``get_client()`` returns a fresh client (own session and stats): use it as a context manager,
    one per thread. Clients of one run share one ``limiter()`` so the rate limit and the bound of
    ``max_concurrency`` requests in flight hold across the threads a load uses. The repr never
    shows the key.
    """

    api_key: str
    base_url: str
    # No JOBNIMBUS_API_KEY at all: this process serves the built-in sandbox company of GCC_HOME
    # (anchored, so every process serves the same one) and reads it, as `gcc` does.
    builtin_sandbox: bool = False
    timeout_seconds: float = 30
    max_retries: int = 6
    requests_per_minute: int = 0
    max_concurrency: int = 4
    page_size: int = MAX_PAGE_SIZE

    def limiter(self) -> RateLimiter:
        """The process's limiter for this API: every request of every step and probe counts
        against one per-minute budget and one bound on requests in flight."""
        key = (self.base_url, self.requests_per_minute, self.max_concurrency)
        with _LIMITERS_LOCK:
            if key not in _LIMITERS:
                _LIMITERS[key] = RateLimiter(
                    self.requests_per_minute, max_in_flight=self.max_concurrency
                )
            return _LIMITERS[key]

    def get_client(
        self, limiter: RateLimiter | None = None, *, max_retries: int | None = None
    ) -> JobNimbusClient:
        base_url, api_key = self.base_url, self.api_key
        if self.builtin_sandbox:
            from gcc_pipeline.sandbox.builtin import shared

            base_url, api_key = shared()
        return JobNimbusClient(
            base_url=base_url,
            api_key=api_key,
            timeout=(min(10.0, self.timeout_seconds), self.timeout_seconds),
            max_retries=self.max_retries if max_retries is None else max_retries,
            requests_per_minute=self.requests_per_minute,
            limiter=limiter or self.limiter(),
            page_size=self.page_size,
        )

    def oldest(self, listings: Sequence[Listing]) -> list[tuple[bool, datetime | None]]:
        """`JobNimbusClient.oldest` of each listing, asked concurrently (one request each, at
        most `max_concurrency` at once): against a distant API, one round trip, not six."""
        limiter = self.limiter()

        def ask(listing: Listing) -> tuple[bool, datetime | None]:
            with self.get_client(limiter) as client:
                return client.oldest(listing)

        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="gcc-oldest") as pool:
            return list(pool.map(ask, listings))

    def probe(
        self,
        spans: Sequence[tuple[Listing, datetime | None, datetime | None]],
        known: Mapping[str, tuple[bool, datetime | None]] | None = None,
    ) -> list[tuple[tuple[bool, datetime | None], int]]:
        """For each (listing, start, end): its oldest record (`JobNimbusClient.oldest`, unless
        `known` has it) and how many records the span holds (`count`), all asked at once, at
        most `max_concurrency` in flight: against a distant API, one round trip for a load's
        whole plan."""
        known = known or {}
        limiter = self.limiter()

        def oldest(listing: Listing) -> tuple[bool, datetime | None]:
            with self.get_client(limiter) as client:
                return client.oldest(listing)

        def count(span: tuple[Listing, datetime | None, datetime | None]) -> int:
            with self.get_client(limiter) as client:
                return client.count(*span)

        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="gcc-probe") as pool:
            firsts = [
                None if span[0].name in known else pool.submit(oldest, span[0]) for span in spans
            ]
            totals = [pool.submit(count, span) for span in spans]
            return [
                (known[span[0].name] if f is None else f.result(), t.result())
                for span, f, t in zip(spans, firsts, totals, strict=True)
            ]

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [(k, v) for k, v in super().__repr_args__() if k != "api_key"]

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.__repr_args__())
        return f"JobNimbusResource({shown}, api_key='***')"

    __str__ = __repr__
