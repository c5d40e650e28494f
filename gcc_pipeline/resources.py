"""The resources every asset, check and sensor uses, configured from the environment."""

import os

from dagster import EnvVar

from gcc_pipeline.jobnimbus import DEFAULT_BASE_URL, JobNimbusResource
from gcc_pipeline.warehouse.resource import WarehouseResource


def build_resources() -> dict[str, object]:
    return {
        # The key stays an EnvVar: Dagster resolves it at run time and never stores its value.
        "jobnimbus": JobNimbusResource(
            api_key=EnvVar("JOBNIMBUS_API_KEY"),
            base_url=os.environ.get("JOBNIMBUS_BASE_URL") or DEFAULT_BASE_URL,
            requests_per_minute=int(os.environ.get("JOBNIMBUS_REQUESTS_PER_MINUTE") or 0),
        ),
        "warehouse": WarehouseResource(),
    }
