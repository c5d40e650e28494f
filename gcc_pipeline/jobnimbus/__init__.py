"""JobNimbus API access: the HTTP client and its Dagster resource.

Record parsing lives in ``gcc_pipeline.jobnimbus.records``; which resources exist, in the stream
registry ``gcc_pipeline.streams``.
"""

from .client import MAX_PAGE_SIZE, OFFSET_CAP, JobNimbusClient, Listing, to_epoch
from .errors import AuthError, JobNimbusError, NotFoundError
from .ratelimit import RateLimiter
from .resource import JobNimbusResource

__all__ = [
    "MAX_PAGE_SIZE",
    "OFFSET_CAP",
    "AuthError",
    "JobNimbusClient",
    "JobNimbusError",
    "JobNimbusResource",
    "Listing",
    "NotFoundError",
    "RateLimiter",
    "to_epoch",
]
