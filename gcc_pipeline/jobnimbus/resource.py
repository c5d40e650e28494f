"""The Dagster resource that hands assets, sensors and checks a configured JobNimbus client."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource

from .client import JobNimbusClient
from .endpoints import DEFAULT_BASE_URL


class JobNimbusResource(ConfigurableResource):
    """JobNimbus API access; the key is meant to come from ``EnvVar("JOBNIMBUS_API_KEY")``.

    ``get_client()`` returns a fresh client (own session, stats and rate limiter): use it as a
    context manager, one per thread. The repr never shows the key.
    """

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout_seconds: float = 30
    max_retries: int = 6
    requests_per_minute: int = 0
    page_size: int = 1000

    def get_client(self) -> JobNimbusClient:
        return JobNimbusClient(
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=(min(10.0, self.timeout_seconds), self.timeout_seconds),
            max_retries=self.max_retries,
            requests_per_minute=self.requests_per_minute,
            page_size=self.page_size,
        )

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [(k, v) for k, v in super().__repr_args__() if k != "api_key"]

    def __repr__(self) -> str:
        return (
            f"JobNimbusResource(base_url={self.base_url!r}, timeout_seconds={self.timeout_seconds},"
            f" max_retries={self.max_retries}, requests_per_minute={self.requests_per_minute},"
            f" page_size={self.page_size}, api_key='***')"
        )

    __str__ = __repr__
