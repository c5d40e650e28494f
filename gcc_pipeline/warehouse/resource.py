"""The warehouse as a Dagster resource: resolved the same way the `gcc` command resolves it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from gcc_pipeline.settings import load_settings
from gcc_pipeline.warehouse.migrate import migrate
from gcc_pipeline.warehouse.server import connect, ensure_database, resolve_target
from gcc_pipeline.warehouse.urls import redact


class WarehouseResource(ConfigurableResource):
    """PostgreSQL warehouse. Empty `url`: GCC_WAREHOUSE_URL (set by gcc), else POSTGRES_URL or
    the embedded server, exactly as `gcc db url` reports."""

    url: str = ""
    _url: str = PrivateAttr(default="")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._url = self.resolve_url()

    def resolve_url(self) -> str:
        url = self.url or os.environ.get("GCC_WAREHOUSE_URL") or ""
        if not url:
            url = resolve_target(load_settings()).warehouse_url
            ensure_database(url)
        migrate(url)  # idempotent: one query when the schema is current
        return url

    def __repr_args__(self) -> list[tuple[str | None, Any]]:
        return [(k, redact(v) if k == "url" and v else v) for k, v in super().__repr_args__()]

    @contextmanager
    def connection(self) -> Iterator[Any]:
        conn = connect(self._url or self.resolve_url())
        try:
            yield conn
        finally:
            conn.close()
