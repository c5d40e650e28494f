"""The warehouse as a Dagster resource: resolved the same way the `gcc` command resolves it.

Steps never change the schema: `gcc run`, `gcc dev` and `gcc db migrate` apply it before anything
runs. A step only checks the schema is current and otherwise fails at once, naming the command.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from gcc_pipeline.settings import load_settings
from gcc_pipeline.warehouse.migrate import verify_current
from gcc_pipeline.warehouse.pool import borrowed
from gcc_pipeline.warehouse.server import connect, resolve_target
from gcc_pipeline.warehouse.urls import redact


class WarehouseResource(ConfigurableResource):
    """PostgreSQL warehouse. Empty `url`: the one `gcc` resolved (POSTGRES_URL or the embedded
    server under GCC_HOME), exactly as `gcc db url` reports."""

    url: str = ""
    _url: str = PrivateAttr(default="")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._url = self.resolve_url()
        verify_current(self._url)

    def resolve_url(self) -> str:
        if self.url:
            return self.url
        settings = load_settings()
        return settings.warehouse_url or resolve_target(settings).warehouse_url

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [(k, redact(v) if k == "url" and v else v) for k, v in super().__repr_args__()]

    def connect(self) -> Any:
        """A new psycopg2 connection of its own (the caller closes it): for session state that
        must not outlive the caller, such as advisory locks."""
        return connect(self._url or self.resolve_url())

    @contextmanager
    def connection(self, *, relaxed: bool = False) -> Iterator[Any]:
        """A connection of this process's pool (see warehouse/pool.py), given back after;
        `relaxed`: commits do not wait for the disk (bulk landing of what can be re-fetched)."""
        with borrowed(self._url or self.resolve_url(), relaxed=relaxed) as conn:
            yield conn
