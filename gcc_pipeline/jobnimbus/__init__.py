"""JobNimbus API access: endpoints, the HTTP client and its Dagster resource.

Record parsing lives in ``gcc_pipeline.jobnimbus.records``.
"""

from .client import JobNimbusClient, to_epoch
from .endpoints import (
    DEFAULT_BASE_URL,
    MAX_PAGE_SIZE,
    OFFSET_CAP,
    RESOURCES,
    WINDOWED_RESOURCES,
    Endpoint,
)
from .errors import AuthError, JobNimbusError, NotFoundError
from .ratelimit import RateLimiter
from .resource import JobNimbusResource

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "OFFSET_CAP",
    "RESOURCES",
    "WINDOWED_RESOURCES",
    "AuthError",
    "Endpoint",
    "JobNimbusClient",
    "JobNimbusError",
    "JobNimbusResource",
    "NotFoundError",
    "RateLimiter",
    "to_epoch",
]
