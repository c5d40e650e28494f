"""The JobNimbus endpoints the pipeline reads, and the API limits paging must respect."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE_URL = "https://app.jobnimbus.com/api1"

#: The API answers an error when ``from + size`` exceeds this, so no query may page past it.
OFFSET_CAP = 10_000
#: Largest page the API serves.
MAX_PAGE_SIZE = 1_000


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a resource lives and how its list answers are shaped.

    ``list_key`` is the envelope key holding the records (``None``: the answer is one object).
    ``date_field`` is the field windows filter and sort on (``None``: not a windowed list).
    """

    path: str
    list_key: str | None
    date_field: str | None

    @property
    def windowed(self) -> bool:
        return self.list_key is not None and self.date_field is not None


RESOURCES: dict[str, Endpoint] = {
    "contacts": Endpoint("/contacts", "results", "date_updated"),
    "jobs": Endpoint("/jobs", "results", "date_updated"),
    "payments": Endpoint("/payments", "results", "date_updated"),
    "workorders": Endpoint("/v2/workorders", "results", "date_updated"),
    "materialorders": Endpoint("/v2/materialorders", "results", "date_updated"),
    # Activities never change once written; the list key is 'activity', not 'results'.
    "activities": Endpoint("/activities", "activity", "date_created"),
    "users": Endpoint("/account/users", "users", None),
    "settings": Endpoint("/account/settings", None, None),
}

#: Resources that can be pulled by time window, in a sensible load order.
WINDOWED_RESOURCES: tuple[str, ...] = tuple(n for n, e in RESOURCES.items() if e.windowed)
