"""The resources assets, checks, sensors and schedules use, configured from `Settings`.

These are what the UI's resource page and launchpad show: the API key stays an `EnvVar` (Dagster
resolves it at run time and never stores its value), the rest are plain values read once by
settings.py.
"""

from dagster import ConfigurableResource, EnvVar

from gcc_pipeline.jobnimbus import JobNimbusResource
from gcc_pipeline.settings import Settings, load_settings
from gcc_pipeline.warehouse.resource import WarehouseResource


class AccountResource(ConfigurableResource):
    """Account-level settings: the time zone months follow, where history starts, when data
    counts as stale, where failed runs are posted."""

    timezone: str = "UTC"
    start_date: str
    freshness_hours: float = 48.0
    failure_webhook_url: str = ""


def jobnimbus_resource(settings: Settings, api_key: str | EnvVar) -> JobNimbusResource:
    """Steps get the key as `EnvVar("JOBNIMBUS_API_KEY")`; `gcc` itself, before a run, its value.
    With no key at all (plain `dagster dev` in the folder), the built-in sandbox, as `gcc` does."""
    if settings.uses_sandbox:
        return JobNimbusResource(
            api_key="", base_url="(the built-in sandbox)", builtin_sandbox=True,
            requests_per_minute=settings.requests_per_minute,
            max_concurrency=settings.max_concurrency,
        )  # fmt: skip
    return JobNimbusResource(
        api_key=api_key,
        base_url=settings.jobnimbus_base_url,
        requests_per_minute=settings.requests_per_minute,
        max_concurrency=settings.max_concurrency,
    )


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or load_settings()
    webhook = EnvVar("GCC_FAILURE_WEBHOOK_URL") if settings.failure_webhook_url else ""
    return {
        "jobnimbus": jobnimbus_resource(settings, EnvVar("JOBNIMBUS_API_KEY")),
        "warehouse": WarehouseResource(),
        "account": AccountResource(
            timezone=settings.timezone,
            start_date=settings.start_date,
            freshness_hours=settings.freshness_hours,
            failure_webhook_url=webhook,
        ),
    }
